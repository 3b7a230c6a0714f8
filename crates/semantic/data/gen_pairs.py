#!/usr/bin/env python3
"""Builds pairs.jsonl, the semantic cache's labelled set.

Each line is {"id", "a", "b", "hit", "category"}: `hit` says whether the cached answer to `b`
may be served for the query `a`. Run from anywhere: `python3 gen_pairs.py` rewrites
pairs.jsonl beside it. Deterministic (seeded); no network.

How it is built (see docs/caching.md, "The labelled set"):
  * hit categories
      paraphrase        hand-written groups of 3-4 phrasings of one support/coding/general
                        question; every pair within a group
      paraphrase-facts  templates whose slots (entity, number+unit, date, quoted string) are
                        filled with the SAME value on both sides but phrased differently
      surface           the same question with different casing, punctuation, filler words
                        ("please", "hey") or a typo
  * miss categories (near-misses: same wording, one thing changed)
      negation, polarity, entity, entity-order, number, unit, date, quoted, language, intent
      ("intent": same subject and wording style, a different question, no fact to catch it)
"""

import itertools
import json
import os
import random

rng = random.Random(12)
pairs = []


def add(a, b, hit, category):
    if a.strip() == b.strip():
        return
    pairs.append({"a": a, "b": b, "hit": hit, "category": category})


# ---------------------------------------------------------------- paraphrase groups (hit)
PARAPHRASES = [
    ["How do I reset my password?", "I forgot my password, how can I reset it?", "What are the steps to reset my password?", "Can you help me reset my password?"],
    ["How do I cancel my subscription?", "I want to cancel my subscription, what should I do?", "What's the way to end my subscription?", "How can I stop my subscription?"],
    ["Where can I find my invoices?", "Where are my invoices?", "How do I see my past invoices?", "Where do I download my invoices?"],
    ["How do I change my email address?", "Can I update the email address on my account?", "How to change the email on my account", "I need to change my account email"],
    ["Why was my card declined?", "My card got declined, why?", "What could cause my card to be declined?", "Reasons my card payment was declined"],
    ["How long does shipping take?", "How many days until my order arrives?", "What is the delivery time for orders?", "When will my order be delivered?"],
    ["Can I get a refund?", "Is it possible to get my money back?", "How do I request a refund?", "Do you offer refunds?"],
    ["How do I contact customer support?", "How can I reach your support team?", "What's the best way to get in touch with support?", "How do I talk to a support agent?"],
    ["How do I delete my account?", "I want to permanently delete my account", "What are the steps to remove my account?", "Can you delete my account?"],
    ["How do I set up two-factor authentication?", "How can I turn on 2FA for my account?", "Steps to enable two-factor authentication", "How do I add two-step verification?"],
    ["What payment methods do you accept?", "Which ways can I pay?", "What are the accepted payment options?", "Can I pay with a credit card or other methods?"],
    ["How do I track my order?", "Where can I see the status of my order?", "How can I follow my package?", "Is there a way to track my shipment?"],
    ["How do I reverse a list in Python?", "What's the way to reverse a Python list?", "Reverse a list in Python", "How can I get a Python list in reverse order?"],
    ["How do I read a file line by line in Python?", "Python: read a file one line at a time", "What's the best way to iterate over lines of a file in Python?", "How can I loop through each line of a text file in Python?"],
    ["How do I undo the last git commit?", "How can I revert my most recent commit in git?", "Undo last commit git", "What's the command to undo my latest git commit?"],
    ["What is the difference between a process and a thread?", "How does a thread differ from a process?", "Explain process vs thread", "Process versus thread: what's the difference?"],
    ["How do I center a div in CSS?", "What's the CSS to center a div?", "How can I center a div horizontally and vertically with CSS?", "Centering a div with CSS"],
    ["What does HTTP status 404 mean?", "What is a 404 error in HTTP?", "Meaning of HTTP 404", "Why do I get HTTP 404 and what does it mean?"],
    ["How do I exit vim?", "How can I quit vim?", "What's the command to close vim?", "I'm stuck in vim, how do I get out?"],
    ["What is a closure in JavaScript?", "Explain closures in JavaScript", "How do JavaScript closures work?", "Can you explain what a JavaScript closure is?"],
    ["How do I make a GET request in JavaScript?", "How can I send a GET request with JavaScript?", "JavaScript: perform an HTTP GET request", "What's the way to fetch a URL with a GET request in JavaScript?"],
    ["How do I merge two dictionaries in Python?", "Combine two dicts in Python", "What's the best way to merge dictionaries in Python?", "How can I join two Python dictionaries into one?"],
    ["What is dependency injection?", "Explain dependency injection", "Can you explain the concept of dependency injection?", "What does dependency injection mean in software design?"],
    ["How do I list running Docker containers?", "Which command shows the running Docker containers?", "How can I see my running containers in Docker?", "Docker: list the containers that are running"],
    ["How do I check disk usage on Linux?", "How can I see how much disk space is used on Linux?", "Linux command to show disk usage", "What's the way to check free disk space on Linux?"],
    ["Why is the sky blue?", "What makes the sky blue?", "Explain why the sky looks blue", "What is the reason the sky appears blue?"],
    ["How does photosynthesis work?", "Explain how photosynthesis works", "Can you describe the process of photosynthesis?", "What happens during photosynthesis?"],
    ["What causes the seasons?", "Why do we have seasons?", "Explain what causes the seasons on Earth", "What is the reason for the seasons?"],
    ["How do vaccines work?", "Explain how vaccines protect you", "What does a vaccine do in the body?", "How does a vaccine work?"],
    ["What is inflation?", "Explain inflation in simple terms", "Can you tell me what inflation is?", "What does inflation mean in economics?"],
    ["How do I boil an egg?", "What's the best way to boil an egg?", "How should I boil eggs?", "Give me instructions for boiling an egg"],
    ["How do I make pancakes?", "Give me a recipe for pancakes", "What's a simple pancake recipe?", "How can I cook pancakes at home?"],
    ["How can I improve my sleep?", "Tips for sleeping better", "What can I do to sleep better?", "How do I get better sleep?"],
    ["How do I write a cover letter?", "Tips for writing a cover letter", "What should a cover letter include?", "How can I write a good cover letter?"],
    ["What is machine learning?", "Explain machine learning", "Can you explain what machine learning is?", "What does machine learning mean?"],
    ["How do I stay motivated when studying?", "Tips to stay motivated while studying", "How can I keep my motivation to study?", "What helps with motivation for studying?"],
    ["What are good exercises for back pain?", "Which exercises help with back pain?", "Exercises to relieve back pain", "What exercises can I do for my back pain?"],
    ["How do I take a screenshot?", "What's the way to take a screenshot?", "How can I capture my screen as an image?", "How to make a screenshot"],
    ["How do I clear my browser cache?", "How can I empty my browser's cache?", "Steps to clear the browser cache", "What's the way to delete cached files in my browser?"],
    ["How do I update my shipping address?", "Can I change the delivery address for my orders?", "How to edit my shipping address", "I need to update where my orders are shipped"],
    ["What is your return policy?", "How do returns work?", "Can you explain your return policy?", "What are the rules for returning an item?"],
    ["How do I add a user to my team?", "How can I invite someone to my team?", "Steps to add a new team member", "How do I give a colleague access to my team?"],
    ["What is the meaning of life?", "What's the purpose of life?", "Why are we here, what is life's meaning?", "What gives life meaning?"],
    ["How do I write a unit test?", "How should I write unit tests?", "What's a good way to write a unit test?", "Give me tips for writing unit tests"],
    ["What is a REST API?", "Explain what a REST API is", "Can you describe REST APIs?", "What does REST API mean?"],
    ["How do I learn to code?", "What's the best way to start learning programming?", "How should a beginner learn to code?", "Where do I start if I want to learn coding?"],
    ["How do I negotiate a higher salary?", "Tips for negotiating my salary", "How can I ask for more money in a salary negotiation?", "What's the best way to negotiate pay?"],
    ["Summarize the plot of Hamlet", "What happens in Hamlet?", "Give me a summary of Hamlet", "What is the story of Hamlet?"],
    ["How do I calm down when I'm anxious?", "What can I do to calm my anxiety?", "Tips to calm down when anxious", "How do I relax when I feel anxious?"],
    ["How do I change a flat tire?", "What are the steps to change a flat tyre?", "How can I replace a flat tire?", "Explain how to change a flat tire"],
    ["What is a black hole?", "Explain what a black hole is", "Can you describe a black hole?", "What are black holes?"],
    ["How do I remove a stain from a shirt?", "How can I get a stain out of my shirt?", "Best way to remove stains from a shirt", "Tips for removing a stain from clothing"],
    ["How do I start a vegetable garden?", "Tips for starting a vegetable garden", "How can I begin growing vegetables at home?", "What do I need to start a vegetable garden?"],
    ["How do I cook rice?", "What's the best way to cook rice?", "How should I make rice?", "Instructions for cooking rice"],
    ["How do I write a for loop in Rust?", "Rust for loop syntax", "How can I loop over a range in Rust?", "What does a for loop look like in Rust?"],
    ["What is the time complexity of binary search?", "How fast is binary search in big O?", "Binary search complexity", "What's the big-O of binary search?"],
    ["How do I find my IP address?", "How can I see my IP address?", "What's my IP address and how do I check it?", "Where do I find my computer's IP address?"],
    ["How do I back up my phone?", "What's the way to back up my phone?", "How can I make a backup of my phone?", "Steps to back up my phone"],
    ["How do I get rid of hiccups?", "How can I stop hiccups?", "What's a cure for hiccups?", "Ways to stop the hiccups"],
    ["What should I pack for a beach holiday?", "Packing list for a beach vacation", "What do I need to bring to the beach on holiday?", "What to pack for a beach trip"],
]
for group in PARAPHRASES:
    for a, b in itertools.combinations(group, 2):
        add(a, b, True, "paraphrase")

# ---------------------------------------------------------------- slot values
COUNTRIES = ["France", "Germany", "Spain", "Italy", "Japan", "Canada", "Brazil", "Egypt", "India", "Mexico", "Kenya", "Sweden", "Poland", "Greece", "Peru", "Norway"]
CITIES = ["Paris", "London", "Berlin", "Madrid", "Rome", "Tokyo", "Toronto", "Sydney", "Cairo", "Lisbon", "Vienna", "Prague", "Chicago", "Seoul", "Dubai", "Amsterdam"]
LANGS = ["Python", "Java", "JavaScript", "Rust", "Ruby", "Kotlin", "Swift", "PHP", "TypeScript", "Scala"]
PRODUCTS = ["Docker", "Kubernetes", "Postgres", "Redis", "Excel", "Slack", "Zoom", "GitHub", "Chrome", "Firefox"]
OSES = ["Windows", "Ubuntu", "macOS", "Debian", "Android"]
PEOPLE = ["Marie Curie", "Albert Einstein", "Ada Lovelace", "Isaac Newton", "Nikola Tesla", "Charles Darwin", "Alan Turing", "Jane Austen", "Leonardo da Vinci", "Galileo Galilei"]
MONTHS = ["January", "February", "March", "April", "June", "July", "August", "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FOODS = ["chocolate", "grapes", "onions", "avocado", "garlic", "cheese", "apples", "peanut butter"]
UNIT_PAIRS = [("km", "miles"), ("kg", "pounds"), ("litres", "gallons"), ("cm", "inches"), ("meters", "feet"), ("Celsius", "Fahrenheit"), ("euros", "dollars"), ("grams", "ounces")]


def pick(xs, k=1):
    return rng.sample(xs, k) if k > 1 else rng.choice(xs)


def two_different(xs):
    a, b = rng.sample(xs, 2)
    return a, b


# ---------------------------------------------------------------- paraphrase-facts (hit)
FACT_TEMPLATES = [
    ("What is the capital of {c}?", ["Which city is the capital of {c}?", "Tell me the capital city of {c}", "{c}: what's its capital?"], COUNTRIES),
    ("What is the population of {c}?", ["How many people live in {c}?", "How many inhabitants does {c} have?", "Population of {c}?"], COUNTRIES),
    ("What are the best things to do in {c}?", ["What should I do when visiting {c}?", "Top activities in {c}", "Things to see in {c}?"], CITIES),
    ("What's the weather usually like in {c}?", ["What is the typical climate in {c}?", "How is the weather in {c} generally?", "Describe the usual weather in {c}"], CITIES),
    ("How do I install {c}?", ["What are the steps to install {c}?", "Installing {c}: how?", "How can I get {c} installed?"], PRODUCTS),
    ("How do I read a JSON file in {c}?", ["What's the way to parse a JSON file in {c}?", "{c}: load a JSON file", "How can I load JSON from a file using {c}?"], LANGS),
    ("Who was {c}?", ["Tell me about {c}", "What is {c} known for?", "Give me a short biography of {c}"], PEOPLE),
    ("Is {c} safe for dogs to eat?", ["Can dogs eat {c}?", "Is it okay to give my dog {c}?", "Can I feed {c} to my dog?"], FOODS),
]
for base, variants, values in FACT_TEMPLATES:
    for v in rng.sample(values, min(len(values), 6)):
        for var in rng.sample(variants, 2):
            add(base.format(c=v), var.format(c=v), True, "paraphrase-facts")

for _ in range(24):
    n = rng.choice([3, 5, 10, 12, 25, 42, 100, 250])
    u, v = rng.choice(UNIT_PAIRS)
    forms = [f"Convert {n} {u} to {v}", f"How many {v} is {n} {u}?", f"What is {n} {u} in {v}?", f"{n} {u} to {v}"]
    a, b = rng.sample(forms, 2)
    add(a, b, True, "paraphrase-facts")
for _ in range(14):
    p, x = rng.choice([5, 10, 15, 20, 25, 30]), rng.choice([40, 80, 120, 200, 360, 1500])
    a, b = rng.sample([f"What is {p}% of {x}?", f"Calculate {p} percent of {x}", f"{p}% of {x} = ?", f"How much is {p} percent of {x}?"], 2)
    add(a, b, True, "paraphrase-facts")
for _ in range(14):
    m, d = rng.choice(MONTHS), rng.randint(1, 28)
    a, b = rng.sample([f"What happened on {m} {d}, 1969?", f"Which events took place on {m} {d} 1969?", f"Tell me what happened on {m} {d}, 1969", f"Historical events of {m} {d}, 1969"], 2)
    add(a, b, True, "paraphrase-facts")
for _ in range(10):
    day = rng.choice(DAYS)
    a, b = rng.sample([f"Is the store open on {day}?", f"Are you open on {day}?", f"What are your opening hours on {day}?", f"Can I visit the shop on {day}?"], 2)
    add(a, b, True, "paraphrase-facts")
ERRORS = ["connection refused", "permission denied", "segmentation fault", "out of memory", "file not found", "too many open files", "broken pipe", "certificate has expired"]
for err in ERRORS:
    a, b = rng.sample([f'What does the error "{err}" mean?', f'I get "{err}", what does it mean?', f'Explain the error message "{err}"', f'Why would I see "{err}"?'], 2)
    add(a, b, True, "paraphrase-facts")

# ---------------------------------------------------------------- surface variants (hit)
def surface(text):
    t = text
    choice = rng.randrange(6)
    if choice == 0:
        t = t.lower()
    elif choice == 1:
        t = t.rstrip("?.!") + ("??" if t.endswith("?") else "")
    elif choice == 2:
        t = "Please, " + t[0].lower() + t[1:]
    elif choice == 3:
        t = "Hey, quick question: " + t[0].lower() + t[1:]
    elif choice == 4:
        words = t.split()
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        t = " ".join(words)
    else:
        t = "  " + t.replace(" ", "  ", 2) + " "
    return t


for group in rng.sample(PARAPHRASES, 60):
    base = group[0]
    add(base, surface(base), True, "surface")
    add(group[1], surface(group[1]), True, "surface")

# More hand-written near-misses (added with the symmetric-duplicate removal).
MORE_NEGATIONS = [
    ("Why is my printer printing?", "Why is my printer not printing?"),
    ("Is it safe to drink tap water in Mexico?", "Is it not safe to drink tap water in Mexico?"),
    ("Reasons to learn Latin", "Reasons not to learn Latin"),
    ("Why do people vote?", "Why do people not vote?"),
    ("Does my warranty cover water damage?", "Does my warranty not cover water damage?"),
    ("What happens if I take the medicine with food?", "What happens if I take the medicine without food?"),
    ("Why does my baby sleep at night?", "Why doesn't my baby sleep at night?"),
    ("Should I tell my manager about the offer?", "Should I not tell my manager about the offer?"),
    ("Is the meeting cancelled?", "Is the meeting not cancelled?"),
    ("Why can I see the file?", "Why can't I see the file?"),
    ("Jobs that require a degree", "Jobs that require no degree"),
    ("Why does my sourdough rise?", "Why does my sourdough not rise?"),
    ("Is this function thread-safe?", "Is this function not thread-safe?"),
    ("Countries where tipping is expected", "Countries where tipping is not expected"),
    ("Why do I receive emails from you?", "Why do I never receive emails from you?"),
    ("Can I travel with an expired passport?", "Can I not travel with an expired passport?"),
    ("Why does the build use the cache?", "Why does the build not use the cache?"),
    ("Is breakfast the most important meal?", "Is breakfast not the most important meal?"),
    ("Why is my dog eating?", "Why is my dog not eating?"),
    ("What to do if the baby has a fever", "What to do if the baby has no fever but is crying"),
]

MORE_POLARITY = [
    ("How do I increase the font size?", "How do I decrease the font size?"),
    ("How do I enable cookies in my browser?", "How do I disable cookies in my browser?"),
    ("How do I activate my card?", "How do I deactivate my card?"),
    ("What are the pros of nuclear energy?", "What are the cons of nuclear energy?"),
    ("Is it better to rent or buy a house?", "Is it worse to rent or buy a house?"),
    ("How do I make my code run faster?", "How do I make my code run slower?"),
    ("How do I turn on location services?", "How do I turn off location services?"),
    ("How do I download my data?", "How do I upload my data?"),
    ("Which foods raise blood pressure?", "Which foods lower blood pressure?"),
    ("How to gain weight healthily", "How to lose weight healthily"),
    ("How do I zip a folder on Windows?", "How do I unzip a folder on Windows?"),
    ("What is the oldest university in the world?", "What is the newest university in the world?"),
    ("How do I send money with PayPal?", "How do I receive money with PayPal?"),
    ("How do I sign in to Gmail?", "How do I sign out of Gmail?"),
    ("What is the longest river in Africa?", "What is the shortest river in Africa?"),
    ("Is it legal to drive barefoot?", "Is it illegal to drive barefoot?"),
    ("What makes a password strong?", "What makes a password weak?"),
    ("Which animals are the most dangerous?", "Which animals are the most harmless?"),
    ("How do I accept a calendar invite?", "How do I decline a calendar invite?"),
    ("How can I speed up my laptop?", "How can I slow down my laptop fan?"),
]

MORE_INTENT = [
    ("How do I reset my router?", "How do I update my router's firmware?"),
    ("How do I change my password?", "How do I change my profile picture?"),
    ("What time does the store open?", "What time does the store close?"),
    ("How do I book a flight?", "How do I check in for a flight?"),
    ("What is the capital gains tax?", "What is the inheritance tax?"),
    ("How do I write a README?", "How do I write a changelog?"),
    ("What is a hash map?", "What is a linked list?"),
    ("How do I install Python packages?", "How do I uninstall Python itself?"),
    ("How do I rename a git branch?", "How do I delete a git branch?"),
    ("How do I format a date in JavaScript?", "How do I parse a date in JavaScript?"),
    ("What is the boiling point of water?", "What is the freezing point of water?"),
    ("How do I make cold brew coffee?", "How do I make espresso?"),
    ("How much should I tip a waiter?", "How much should I tip a taxi driver?"),
    ("What are the symptoms of dehydration?", "What are the causes of dehydration?"),
    ("How do I apply for a passport?", "How do I renew my passport?"),
    ("How do I print a PDF?", "How do I sign a PDF?"),
    ("What is a mortgage?", "What is a mortgage broker?"),
    ("How do I set an alarm on my phone?", "How do I set a timer on my phone?"),
    ("How do I merge cells in Excel?", "How do I freeze rows in Excel?"),
    ("How do I join a Zoom meeting?", "How do I schedule a Zoom meeting?"),
    ("How do I split a string in Python?", "How do I join a list of strings in Python?"),
    ("How do I get a refund for a late flight?", "How do I get compensation for lost luggage?"),
    ("What does a product manager do?", "What does a project manager do?"),
    ("How do I connect to a VPN?", "How do I set up my own VPN server?"),
    ("How do I grow tomatoes?", "How do I prune tomatoes?"),
    ("What is the speed of light?", "What is the speed of sound?"),
    ("How do I write a SQL join?", "How do I write a SQL subquery?"),
    ("How do I add a comment in YAML?", "How do I write a list in YAML?"),
    ("How do I remove duplicates from a list?", "How do I count duplicates in a list?"),
    ("How do I open a bank account?", "How do I close a credit card?"),
    ("What is the function of the liver?", "What is the function of the kidneys?"),
    ("How long should I boil pasta?", "How much salt should I add to pasta water?"),
    ("How do I report a bug?", "How do I request a feature?"),
    ("How do I change the language of the app?", "How do I change the currency of the app?"),
    ("What is a bear market?", "What is a bull market?"),
    ("How do I become a nurse?", "How do I become a doctor?"),
    ("What's the difference between a virus and bacteria?", "What's the difference between a virus and a fungus?"),
    ("How do I find a good therapist?", "How do I find a good dentist?"),
    ("How do I write a haiku?", "How do I write a sonnet?"),
    ("What is the plot of Star Wars?", "Who are the main characters of Star Wars?"),
    ("How do I transfer files to my new phone?", "How do I transfer contacts to my new phone?"),
    ("How do I get a driver's license?", "How do I replace a lost driver's license?"),
    ("How do I export a video in Premiere?", "How do I crop a video in Premiere?"),
    ("What should I eat after a workout?", "How long should I rest after a workout?"),
    ("How do I check my credit score?", "How do I dispute an error on my credit report?"),
    ("What are the opening hours of the museum?", "What are the ticket prices of the museum?"),
    ("How do I write a binary search?", "How do I write a bubble sort?"),
    ("How do I fix a leaking tap?", "How do I fix a running toilet?"),
    ("What is my account balance?", "What is my account number?"),
    ("How do I upgrade to the premium plan?", "What does the premium plan include?"),
]

# ---------------------------------------------------------------- negation (miss)
NEGATIONS = [
    ("Which foods are safe for dogs?", "Which foods are not safe for dogs?"),
    ("Why does my laptop charge?", "Why doesn't my laptop charge?"),
    ("Recipes with gluten", "Recipes without gluten"),
    ("Is it a good idea to invest in bonds?", "Is it not a good idea to invest in bonds?"),
    ("Why does my code compile?", "Why does my code not compile?"),
    ("Things to do when you can sleep", "Things to do when you can't sleep"),
    ("Why is my phone charging?", "Why is my phone not charging?"),
    ("How do I know if my visa is approved?", "How do I know if my visa is not approved?"),
    ("Plants that need direct sunlight", "Plants that need no direct sunlight"),
    ("Should I use a VPN?", "Should I never use a VPN?"),
    ("What happens if I pay my taxes on time?", "What happens if I don't pay my taxes on time?"),
    ("Why does the light turn on?", "Why doesn't the light turn on?"),
    ("Is the package delivered?", "Is the package not delivered?"),
    ("Exercises you can do with equipment", "Exercises you can do without equipment"),
    ("Is coffee bad for you?", "Is coffee not bad for you?"),
    ("Why does my Wi-Fi work?", "Why does my Wi-Fi not work?"),
    ("Cars that need premium fuel", "Cars that don't need premium fuel"),
    ("What should I eat before a workout?", "What should I not eat before a workout?"),
    ("Why is my order shipped?", "Why is my order not shipped yet?"),
    ("Which countries require a visa for US citizens?", "Which countries do not require a visa for US citizens?"),
    ("Is my email verified?", "Why is my email not verified?"),
    ("Why do cats purr?", "Why don't cats purr?"),
    ("Does the hotel allow pets?", "Does the hotel not allow pets?"),
    ("Why does my test pass?", "Why does my test never pass?"),
    ("Is it legal to record a phone call?", "Is it not legal to record a phone call?"),
    ("How to live with a roommate", "How to live without a roommate"),
    ("Foods that contain sugar", "Foods that contain no sugar"),
    ("Why does the app sync?", "Why won't the app sync?"),
    ("Can I return a used item?", "Can I not return a used item?"),
    ("Does this plan include support?", "Does this plan not include support?"),
]
for a, b in NEGATIONS + MORE_NEGATIONS:
    add(a, b, False, "negation")
NEG_TEMPLATES = [
    ("Is {f} safe for cats?", "Is {f} not safe for cats?"),
    ("Why is {p} working?", "Why is {p} not working?"),
    ("Does {p} support {o}?", "Does {p} not support {o}?"),
]
for a, b in NEG_TEMPLATES:
    for _ in range(10):
        f, p, o = rng.choice(FOODS), rng.choice(PRODUCTS), rng.choice(OSES)
        add(a.format(f=f, p=p, o=o), b.format(f=f, p=p, o=o), False, "negation")

# ---------------------------------------------------------------- polarity (miss)
POLARITY = [
    ("How do I enable dark mode?", "How do I disable dark mode?"),
    ("How to turn on notifications", "How to turn off notifications"),
    ("Best way to increase my credit score", "Best way to decrease my credit score"),
    ("How do I upload a file to the server?", "How do I download a file from the server?"),
    ("What are the benefits of fasting?", "What are the risks of fasting?"),
    ("How do I encrypt a file?", "How do I decrypt a file?"),
    ("How do I install the printer driver?", "How do I uninstall the printer driver?"),
    ("How do I import contacts?", "How do I export contacts?"),
    ("When is the best time to buy a car?", "When is the best time to sell a car?"),
    ("How do I add a member to the group?", "How do I remove a member from the group?"),
    ("How do I lock my screen?", "How do I unlock my screen?"),
    ("What is the cheapest flight to Rome?", "What is the most expensive flight to Rome?"),
    ("What are the advantages of remote work?", "What are the disadvantages of remote work?"),
    ("How do I show hidden files?", "How do I hide files?"),
    ("How do I mute a channel?", "How do I unmute a channel?"),
    ("How do I connect my headphones?", "How do I disconnect my headphones?"),
    ("How do I subscribe to the newsletter?", "How do I unsubscribe from the newsletter?"),
    ("How to compress a folder", "How to decompress a folder"),
    ("Sort the list in ascending order", "Sort the list in descending order"),
    ("What should I do before the interview?", "What should I do after the interview?"),
    ("How do I upgrade my plan?", "How do I downgrade my plan?"),
    ("How do I join a meeting?", "How do I leave a meeting?"),
    ("How can I raise the volume?", "How can I lower the volume?"),
    ("What is the maximum file size?", "What is the minimum file size?"),
    ("How do I allow cookies?", "How do I block cookies?"),
    ("Which is the fastest sorting algorithm?", "Which is the slowest sorting algorithm?"),
    ("How do I log in to my account?", "How do I log out of my account?"),
    ("How do I start the server?", "How do I stop the server?"),
    ("What is the best laptop for students?", "What is the worst laptop for students?"),
    ("How do I encode a string in base64?", "How do I decode a string from base64?"),
    ("How do I open a port on my firewall?", "How do I close a port on my firewall?"),
    ("Should I drink hot water in the morning?", "Should I drink cold water in the morning?"),
    ("How do I include a file in the build?", "How do I exclude a file from the build?"),
    ("How do I accept a pull request?", "How do I reject a pull request?"),
    ("How to serialize an object to JSON", "How to deserialize an object from JSON"),
    ("How do I push to a remote branch?", "How do I pull from a remote branch?"),
    ("What is the largest planet?", "What is the smallest planet?"),
    ("What is the highest mountain in Europe?", "What is the lowest point in Europe?"),
    ("Who was the first person on the Moon?", "Who was the last person on the Moon?"),
    ("How to send an encrypted email", "How to receive an encrypted email"),
]
for a, b in POLARITY + MORE_POLARITY:
    add(a, b, False, "polarity")

# ---------------------------------------------------------------- entity (miss)
ENTITY_TEMPLATES = [
    ("What is the capital of {x}?", COUNTRIES),
    ("What is the population of {x}?", COUNTRIES),
    ("What language do they speak in {x}?", COUNTRIES),
    ("What are the best things to do in {x}?", CITIES),
    ("How expensive is it to live in {x}?", CITIES),
    ("How do I install {x}?", PRODUCTS),
    ("How do I read a JSON file in {x}?", LANGS),
    ("How do I write a web server in {x}?", LANGS),
    ("Who was {x}?", PEOPLE),
    ("How do I install Docker on {x}?", OSES),
    ("Is {x} safe for dogs to eat?", FOODS),
    ("what is the capital of {lx}", [c.lower() for c in COUNTRIES]),
]
for tpl, values in ENTITY_TEMPLATES:
    for _ in range(9):
        x, y = two_different(values)
        add(tpl.format(x=x, lx=x), tpl.format(x=y, lx=y), False, "entity")

# ---------------------------------------------------------------- entity-order (miss)
ORDER_TEMPLATES = [
    ("Flights from {x} to {y}", CITIES),
    ("How far is it from {x} to {y} by train?", CITIES),
    ("Translate this sentence from {x} to {y}", ["English", "French", "German", "Spanish", "Italian", "Japanese"]),
    ("How do I migrate from {x} to {y}?", LANGS),
    ("Convert {x} to {y}", ["Celsius", "Fahrenheit", "Kelvin"]),
    ("Is {x} bigger than {y}?", COUNTRIES),
    ("Move my data from {x} to {y}", PRODUCTS),
]
for tpl, values in ORDER_TEMPLATES:
    for _ in range(9):
        x, y = two_different(values)
        add(tpl.format(x=x, y=y), tpl.format(x=y, y=x), False, "entity-order")

# ---------------------------------------------------------------- number (miss)
NUMBER_TEMPLATES = [
    "What is {n}% of 80?",
    "Top {n} sci-fi books of all time",
    "Is {n} a prime number?",
    "What is the square root of {n}?",
    "Write a poem with {n} lines",
    "How many calories do I burn running for {n} minutes?",
    "Give me {n} ideas for a birthday party",
    "What was the world population in {y}?",
    "Who won the World Cup in {y}?",
    "I need a table for {n} people tonight",
    "Can I bring {n} bags on the plane?",
    "How much is a {n} dollar tip on a restaurant bill?",
]
for tpl in NUMBER_TEMPLATES:
    for _ in range(8):
        n, m = rng.sample([2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 50, 64, 100], 2)
        y, z = rng.sample([1950, 1966, 1970, 1986, 1990, 1998, 2002, 2010, 2014, 2018, 2022], 2)
        word = {2: "two", 3: "three", 5: "five", 10: "ten"}.get(m)
        b = tpl.format(n=word if word and rng.random() < 0.3 else m, y=z)
        add(tpl.format(n=n, y=y), b, False, "number")

# ---------------------------------------------------------------- unit (miss)
UNIT_TEMPLATES = [
    ("How long does it take to walk 5 {u}?", ["km", "miles"]),
    ("How many calories are in 100 {u} of rice?", ["grams", "ounces", "pounds"]),
    ("Is 30 degrees {u} hot?", ["Celsius", "Fahrenheit"]),
    ("How much does 1 {u} of gold cost?", ["gram", "ounce", "kilogram"]),
    ("Convert 10 {u} to meters", ["feet", "inches", "yards", "miles"]),
    ("How much water is 2 {u}?", ["litres", "gallons", "cups"]),
    ("Is a 500 {u} budget enough for a week in Rome?", ["euros", "dollars", "pounds"]),
    ("How long is 90 {u}?", ["minutes", "seconds", "days"]),
    ("Is 16 {u} of RAM enough for gaming?", ["GB", "MB"]),
    ("What is the speed of a car at 100 {u}?", ["mph", "kph"]),
    ("How heavy is 3 {u}?", ["kg", "pounds"]),
    ("Run 10 {u} in under an hour", ["km", "miles"]),
    ("Is 40 {u} a good speed for a bike?", ["km/h", "mph"]),
    ("How many steps are 2 {u}?", ["km", "miles"]),
    ("Bake the cake at 180 degrees {u}", ["Celsius", "Fahrenheit"]),
    ("Is a 2 {u} bag too heavy for carry-on?", ["kg", "pounds"]),
    ("Add 200 {u} of flour", ["grams", "cups", "ounces"]),
    ("Is 100 {u} a lot for a monthly phone plan?", ["dollars", "euros", "GB"]),
    ("How long does it take to download 5 {u}?", ["GB", "MB"]),
    ("Is a 50 {u} fridge big enough?", ["litres", "gallons"]),
    ("Walk 3 {u} every day", ["km", "miles", "hours"]),
    ("Drink 2 {u} of water a day", ["litres", "cups", "gallons"]),
    ("A room of 20 {u}", ["square meters", "square feet"]),
    ("The package weighs 5 {u}", ["kg", "pounds", "ounces"]),
]
for tpl, units in UNIT_TEMPLATES:
    for u, v in itertools.combinations(units, 2):
        add(tpl.format(u=u), tpl.format(u=v), False, "unit")

# ---------------------------------------------------------------- date (miss)
DATE_TEMPLATES = [
    "What happened on {m} {d}, 1969?",
    "Is the office open on {day}?",
    "What's the weather in {c} {rel}?",
    "Book a meeting room for {day} morning",
    "Which holidays are in {m}?",
    "Show my calendar for {rel}",
    "What time does the museum open on {day}?",
    "Remind me to call mom on {m} {d}",
]
RELS = ["today", "tomorrow", "tonight", "next week", "this weekend", "yesterday"]
for tpl in DATE_TEMPLATES:
    for _ in range(9):
        (m, m2), (day, day2), (r, r2) = two_different(MONTHS), two_different(DAYS), two_different(RELS)
        d, c = rng.randint(1, 28), rng.choice(CITIES)
        if "{m}" in tpl and "{d}" in tpl and rng.random() < 0.3:
            m2, d2 = m, d + 1
        else:
            d2 = d
        add(tpl.format(m=m, d=d, day=day, rel=r, c=c), tpl.format(m=m2, d=d2, day=day2, rel=r2, c=c), False, "date")
for _ in range(6):
    a, b = rng.sample(["2025-01-31", "2025-02-28", "2024-12-24", "2025-03-15", "2024-11-05"], 2)
    add(f"Is the deadline {a}?", f"Is the deadline {b}?", False, "date")

# ---------------------------------------------------------------- quoted (miss)
for _ in range(40):
    e1, e2 = two_different(ERRORS)
    tpl = rng.choice(['What does the error "{e}" mean?', 'How do I fix "{e}" in my app?', 'Why do I get "{e}" when I start the server?'])
    add(tpl.format(e=e1), tpl.format(e=e2), False, "quoted")
PHRASES = ["good morning", "good night", "thank you very much", "see you later", "I love you", "happy birthday", "where is the station"]
for _ in range(30):
    p1, p2 = two_different(PHRASES)
    lang = rng.choice(["French", "German", "Spanish", "Italian"])
    tpl = rng.choice(["Translate '{p}' into {l}", "How do you say \"{p}\" in {l}?"])
    add(tpl.format(p=p1, l=lang), tpl.format(p=p2, l=lang), False, "quoted")

# ---------------------------------------------------------------- language (miss)
TRANSLATIONS = [
    ("How do I reset my password?", ["Comment réinitialiser mon mot de passe ?", "¿Cómo restablezco mi contraseña?", "Wie setze ich mein Passwort zurück?", "Come posso reimpostare la mia password?"]),
    ("What is the capital of France?", ["Quelle est la capitale de la France ?", "¿Cuál es la capital de Francia?", "Was ist die Hauptstadt von Frankreich?", "Qual è la capitale della Francia?"]),
    ("How do I cancel my subscription?", ["Comment annuler mon abonnement ?", "¿Cómo cancelo mi suscripción?", "Wie kündige ich mein Abonnement?", "Como posso cancelar a minha assinatura?"]),
    ("Where is my order?", ["Où est ma commande ?", "¿Dónde está mi pedido?", "Wo ist meine Bestellung?", "Dov'è il mio ordine?"]),
    ("Can I get a refund?", ["Puis-je obtenir un remboursement ?", "¿Puedo obtener un reembolso?", "Kann ich eine Rückerstattung bekommen?", "Posso ottenere un rimborso?"]),
    ("How long does shipping take?", ["Combien de temps prend la livraison ?", "¿Cuánto tarda el envío?", "Wie lange dauert der Versand?", "Quanto tempo ci vuole per la spedizione?"]),
    ("What payment methods do you accept?", ["Quels moyens de paiement acceptez-vous ?", "¿Qué métodos de pago aceptan?", "Welche Zahlungsmethoden akzeptieren Sie?", "Quais métodos de pagamento vocês aceitam?"]),
    ("How do I delete my account?", ["Comment supprimer mon compte ?", "¿Cómo elimino mi cuenta?", "Wie lösche ich mein Konto?", "Come posso eliminare il mio account?"]),
    ("How do I contact customer support?", ["Comment contacter le service client ?", "¿Cómo contacto con atención al cliente?", "Wie kontaktiere ich den Kundendienst?", "Come contatto l'assistenza clienti?"]),
    ("Why is the sky blue?", ["Pourquoi le ciel est-il bleu ?", "¿Por qué el cielo es azul?", "Warum ist der Himmel blau?", "Perché il cielo è blu?"]),
    ("How do I boil an egg?", ["Comment faire cuire un œuf dur ?", "¿Cómo se hierve un huevo?", "Wie koche ich ein Ei?", "Como cozinhar um ovo?"]),
    ("What is machine learning?", ["Qu'est-ce que l'apprentissage automatique ?", "¿Qué es el aprendizaje automático?", "Was ist maschinelles Lernen?", "O que é aprendizado de máquina?"]),
    ("How do I change my email address?", ["Comment changer mon adresse e-mail ?", "¿Cómo cambio mi dirección de correo electrónico?", "Wie ändere ich meine E-Mail-Adresse?", "Come cambio il mio indirizzo email?"]),
    ("What is your return policy?", ["Quelle est votre politique de retour ?", "¿Cuál es su política de devoluciones?", "Wie sind Ihre Rückgabebedingungen?", "Qual è la vostra politica di reso?"]),
    ("How can I improve my sleep?", ["Comment améliorer mon sommeil ?", "¿Cómo puedo dormir mejor?", "Wie kann ich besser schlafen?", "Come posso dormire meglio?"]),
    ("Where can I find my invoices?", ["Où puis-je trouver mes factures ?", "¿Dónde encuentro mis facturas?", "Wo finde ich meine Rechnungen?", "Dove trovo le mie fatture?"]),
    ("What is inflation?", ["Qu'est-ce que l'inflation ?", "¿Qué es la inflación?", "Was ist Inflation?", "Che cos'è l'inflazione?"]),
    ("How do I track my order?", ["Comment suivre ma commande ?", "¿Cómo rastreo mi pedido?", "Wie verfolge ich meine Bestellung?", "Come posso tracciare il mio ordine?"]),
    ("How do vaccines work?", ["Comment fonctionnent les vaccins ?", "¿Cómo funcionan las vacunas?", "Wie wirken Impfstoffe?", "Come funzionano i vaccini?"]),
    ("How do I take a screenshot?", ["Comment faire une capture d'écran ?", "¿Cómo hago una captura de pantalla?", "Wie mache ich einen Screenshot?", "Come faccio uno screenshot?"]),
    ("Can I pay with PayPal?", ["Puis-je payer avec PayPal ?", "¿Puedo pagar con PayPal?", "Kann ich mit PayPal bezahlen?", "Posso pagare con PayPal?"]),
    ("What is the population of Japan?", ["Quelle est la population du Japon ?", "¿Cuál es la población de Japón?", "Wie viele Einwohner hat Japan?", "Qual è la popolazione del Giappone?"]),
]
for en, others in TRANSLATIONS:
    for o in others:
        add(en, o, False, "language")
    add(others[0], others[1], False, "language")

# ---------------------------------------------------------------- intent (miss)
INTENT = [
    ("How do I reset my password?", "How do I change my username?"),
    ("How do I cancel my subscription?", "How do I pause my subscription?"),
    ("Where can I find my invoices?", "Where can I find my receipts for returns?"),
    ("Why was my card declined?", "Why was my card charged twice?"),
    ("How long does shipping take?", "How much does shipping cost?"),
    ("Can I get a refund?", "Can I get a discount?"),
    ("How do I delete my account?", "How do I deactivate my account temporarily?"),
    ("How do I reverse a list in Python?", "How do I sort a list in Python?"),
    ("How do I undo the last git commit?", "How do I amend the last git commit message?"),
    ("How do I center a div in CSS?", "How do I make a div responsive in CSS?"),
    ("How do I exit vim?", "How do I save a file in vim?"),
    ("How do I merge two dictionaries in Python?", "How do I compare two dictionaries in Python?"),
    ("How do I list running Docker containers?", "How do I list Docker images?"),
    ("How do I check disk usage on Linux?", "How do I check memory usage on Linux?"),
    ("How does photosynthesis work?", "Where does photosynthesis happen in the cell?"),
    ("How do I boil an egg?", "How do I poach an egg?"),
    ("How do I make pancakes?", "How do I make waffles?"),
    ("How do I write a cover letter?", "How do I write a resignation letter?"),
    ("What is machine learning?", "What is deep learning?"),
    ("How do I take a screenshot?", "How do I record my screen?"),
    ("How do I clear my browser cache?", "How do I clear my browser history?"),
    ("What is your return policy?", "What is your privacy policy?"),
    ("How do I add a user to my team?", "How do I change a user's role in my team?"),
    ("What is a REST API?", "What is a GraphQL API?"),
    ("How do I change a flat tire?", "How do I check my tire pressure?"),
    ("How do I cook rice?", "How do I store cooked rice?"),
    ("What is the time complexity of binary search?", "What is the space complexity of binary search?"),
    ("How do I find my IP address?", "How do I change my IP address?"),
    ("How do I back up my phone?", "How do I restore my phone from a backup?"),
    ("What are the symptoms of the flu?", "What are the symptoms of a cold?"),
    ("What is the difference between a process and a thread?", "What is the difference between a thread and a coroutine?"),
    ("How do I track my order?", "How do I change my order?"),
    ("How do I update my shipping address?", "How do I update my billing address?"),
    ("What is inflation?", "What is deflation?"),
    ("How do I write a unit test?", "How do I write an integration test?"),
    ("How do I set up two-factor authentication?", "How do I recover my account if I lose my two-factor device?"),
    ("What should I pack for a beach holiday?", "What should I pack for a ski holiday?"),
    ("How do I get rid of hiccups?", "Why do we get hiccups?"),
    ("How do I learn to code?", "How do I get a job as a programmer?"),
    ("Summarize the plot of Hamlet", "Summarize the plot of Macbeth"),
    ("What is a closure in JavaScript?", "What is a promise in JavaScript?"),
    ("How do I make a GET request in JavaScript?", "How do I make a POST request in JavaScript?"),
    ("How do I remove a stain from a shirt?", "How do I iron a shirt?"),
    ("How do I start a vegetable garden?", "How do I start a compost pile?"),
    ("What is a black hole?", "What is a neutron star?"),
    ("How do I negotiate a higher salary?", "How do I ask for a promotion?"),
    ("How do I calm down when I'm anxious?", "How do I calm down when I'm angry?"),
    ("How do I write a for loop in Rust?", "How do I write a while loop in Rust?"),
    ("Why is the sky blue?", "Why is the sunset red?"),
    ("How can I improve my sleep?", "How can I improve my memory?"),
]
for a, b in INTENT + MORE_INTENT:
    add(a, b, False, "intent")

# ---------------------------------------------------------------- write
# Similarity and every guard are symmetric, so (a, b) and (b, a) score the same: keep one, or
# the set would count one decision twice and its intervals would be too narrow.
seen = set()
unique = []
for p in pairs:
    k = tuple(sorted((p["a"].strip().lower(), p["b"].strip().lower())))
    if k not in seen:
        seen.add(k)
        unique.append(p)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pairs.jsonl")
with open(out, "w", encoding="utf-8") as f:
    for i, p in enumerate(unique):
        f.write(json.dumps({"id": i, **p}, ensure_ascii=False) + "\n")
counts = {}
for p in unique:
    counts[(p["hit"], p["category"])] = counts.get((p["hit"], p["category"]), 0) + 1
print(f"{len(unique)} pairs -> {out}")
for (hit, cat), n in sorted(counts.items()):
    print(f"  {'hit ' if hit else 'miss'} {cat:18} {n}")
