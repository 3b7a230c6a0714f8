"""Independent float64 numpy reference for all-MiniLM-L6-v2 embeddings.

Produces the reference values used in tests/minilm.rs (token ids from the HF
`tokenizers` library, BERT forward pass + mean pooling + L2 norm in numpy).

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install numpy safetensors tokenizers
    /tmp/refvenv/bin/python tools/reference_embeddings.py MODEL_DIR
"""
import numpy as np, sys
from safetensors.numpy import load_file
from tokenizers import Tokenizer
D=sys.argv[1].rstrip('/')+'/'
W=load_file(D+'model.safetensors')
tok=Tokenizer.from_file(D+'tokenizer.json'); tok.no_padding(); tok.enable_truncation(256)
def g(k):
    for p in ('', 'bert.'):
        if p+k in W: return W[p+k].astype(np.float64)
    raise KeyError(k)
def ln(x,p): m=x.mean(-1,keepdims=True); v=((x-m)**2).mean(-1,keepdims=True); return (x-m)/np.sqrt(v+1e-12)*g(p+'.weight')+g(p+'.bias')
from math import erf
verf=np.vectorize(erf)
def gelu(x): return 0.5*x*(1+verf(x/np.sqrt(2)))
def embed(s):
    e=tok.encode(s); ids=np.array(e.ids); n=len(ids)
    x=g('embeddings.word_embeddings.weight')[ids]+g('embeddings.position_embeddings.weight')[:n]+g('embeddings.token_type_embeddings.weight')[0]
    x=ln(x,'embeddings.LayerNorm')
    for l in range(6):
        P=f'encoder.layer.{l}.'
        lin=lambda t,k: t@g(P+k+'.weight').T+g(P+k+'.bias')
        q=lin(x,'attention.self.query').reshape(n,12,32).transpose(1,0,2)
        k=lin(x,'attention.self.key').reshape(n,12,32).transpose(1,0,2)
        v=lin(x,'attention.self.value').reshape(n,12,32).transpose(1,0,2)
        a=q@k.transpose(0,2,1)/np.sqrt(32); a=np.exp(a-a.max(-1,keepdims=True)); a/=a.sum(-1,keepdims=True)
        c=(a@v).transpose(1,0,2).reshape(n,384)
        x=ln(lin(c,'attention.output.dense')+x,P+'attention.output.LayerNorm')
        h=gelu(lin(x,'intermediate.dense'))
        x=ln(lin(h,'output.dense')+x,P+'output.LayerNorm')
    m=x.mean(0); return e, m/np.linalg.norm(m)
if __name__=='__main__':
    print(sorted(W.keys())[:5], len(W))
    S=["A man is eating food.","A man is eating a piece of bread.","The girl is carrying a baby."]
    E=[]
    for s in S:
        e,v=embed(s); E.append(v); print(s, e.tokens, e.ids); print('  first8', np.round(v[:8],6).tolist())
    print('cos01',E[0]@E[1],'cos02',E[0]@E[2],'cos12',E[1]@E[2])
