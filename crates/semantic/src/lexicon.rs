//! The word lists the facts extractor uses: negations, polarity pairs, number words, units,
//! months and weekdays, relative dates, language stopwords, and a small gazetteer of names that
//! are often typed in lower case. Data only; the rules live in `facts`.

/// Words that negate (contractions are split on `n't` before lookup).
pub(crate) const NEGATIONS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "without",
    "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont",
    "wouldnt", "shouldnt", "couldnt", "hasnt", "havent", "hadnt", "aint", "n't",
];

/// Polarity groups: each row is (group, [(word stem, pole)]). Two texts naming opposite poles of
/// one group disagree. Stems are matched after [`stem`].
pub(crate) const POLARITY: &[(&str, &[(&str, u8)])] = &[
    (
        "enable",
        &[
            ("enabl", 0),
            ("disabl", 1),
            ("activat", 0),
            ("deactivat", 1),
            ("turn on", 0),
            ("turn off", 1),
            ("switch on", 0),
            ("switch off", 1),
        ],
    ),
    (
        "increase",
        &[
            ("increas", 0),
            ("decreas", 1),
            ("rais", 0),
            ("lower", 1),
            ("reduc", 1),
            ("grow", 0),
            ("shrink", 1),
        ],
    ),
    (
        "add",
        &[("add", 0), ("remov", 1), ("delet", 1), ("insert", 0)],
    ),
    ("install", &[("install", 0), ("uninstall", 1)]),
    ("upload", &[("upload", 0), ("download", 1)]),
    ("import", &[("import", 0), ("export", 1)]),
    ("encrypt", &[("encrypt", 0), ("decrypt", 1)]),
    (
        "compress",
        &[("compress", 0), ("decompress", 1), ("zip", 0), ("unzip", 1)],
    ),
    ("buy", &[("buy", 0), ("sell", 1), ("purchas", 0)]),
    ("open", &[("open", 0), ("clos", 1)]),
    ("start", &[("start", 0), ("stop", 1)]),
    (
        "allow",
        &[
            ("allow", 0),
            ("block", 1),
            ("deny", 1),
            ("permit", 0),
            ("forbid", 1),
        ],
    ),
    ("include", &[("includ", 0), ("exclud", 1)]),
    ("accept", &[("accept", 0), ("reject", 1), ("declin", 1)]),
    ("win", &[("win", 0), ("gain", 0), ("los", 1)]),
    ("before", &[("befor", 0), ("after", 1)]),
    ("above", &[("abov", 0), ("below", 1)]),
    ("more", &[("mor", 0), ("les", 1), ("fewer", 1)]),
    (
        "max",
        &[("max", 0), ("maximum", 0), ("min", 1), ("minimum", 1)],
    ),
    ("best", &[("best", 0), ("worst", 1)]),
    ("better", &[("better", 0), ("wors", 1)]),
    (
        "cheap",
        &[
            ("cheap", 0),
            ("cheapest", 0),
            ("cheaper", 0),
            ("expensiv", 1),
        ],
    ),
    (
        "fast",
        &[
            ("speed up", 0),
            ("slow down", 1),
            ("fast", 0),
            ("faster", 0),
            ("fastest", 0),
            ("slow", 1),
            ("slower", 1),
            ("slowest", 1),
        ],
    ),
    ("hot", &[("hot", 0), ("cold", 1), ("warm", 0), ("cool", 1)]),
    ("upgrade", &[("upgrad", 0), ("downgrad", 1)]),
    ("join", &[("join", 0), ("leav", 1)]),
    ("subscribe", &[("subscrib", 0), ("unsubscrib", 1)]),
    ("lock", &[("lock", 0), ("unlock", 1)]),
    ("connect", &[("connect", 0), ("disconnect", 1)]),
    ("show", &[("show", 0), ("hid", 1)]),
    ("mute", &[("mut", 0), ("unmut", 1)]),
    ("true", &[("tru", 0), ("fals", 1)]),
    (
        "pros",
        &[
            ("pro", 0),
            ("con", 1),
            ("advantag", 0),
            ("disadvantag", 1),
            ("benefit", 0),
            ("drawback", 1),
            ("risk", 1),
        ],
    ),
    (
        "safe",
        &[
            ("saf", 0),
            ("unsaf", 1),
            ("dangerou", 1),
            ("harmles", 0),
            ("harmful", 1),
        ],
    ),
    ("legal", &[("legal", 0), ("illegal", 1)]),
    ("healthy", &[("healthy", 0), ("unhealthy", 1)]),
    ("like", &[("lov", 0), ("hat", 1), ("lik", 0), ("dislik", 1)]),
    ("agree", &[("agre", 0), ("disagre", 1)]),
    ("possible", &[("possibl", 0), ("impossibl", 1)]),
    (
        "early",
        &[("early", 0), ("earlier", 0), ("lat", 1), ("later", 1)],
    ),
    (
        "long",
        &[
            ("long", 0),
            ("longer", 0),
            ("longest", 0),
            ("short", 1),
            ("shorter", 1),
            ("shortest", 1),
        ],
    ),
    (
        "big",
        &[
            ("big", 0),
            ("bigger", 0),
            ("biggest", 0),
            ("larg", 0),
            ("larger", 0),
            ("largest", 0),
            ("small", 1),
            ("smaller", 1),
            ("smallest", 1),
            ("tiny", 1),
        ],
    ),
    (
        "high",
        &[
            ("high", 0),
            ("higher", 0),
            ("highest", 0),
            ("tallest", 0),
            ("low", 1),
            ("lowest", 1),
        ],
    ),
    ("first", &[("first", 0), ("last", 1)]),
    (
        "new",
        &[("newest", 0), ("newer", 0), ("oldest", 1), ("older", 1)],
    ),
    ("input", &[("input", 0), ("output", 1)]),
    ("send", &[("send", 0), ("receiv", 1)]),
    ("push", &[("push", 0), ("pull", 1)]),
    (
        "login",
        &[
            ("log in", 0),
            ("log out", 1),
            ("sign in", 0),
            ("sign out", 1),
            ("login", 0),
            ("logout", 1),
        ],
    ),
    ("encode", &[("encod", 0), ("decod", 1)]),
    (
        "serialize",
        &[
            ("serializ", 0),
            ("deserializ", 1),
            ("serialis", 0),
            ("deserialis", 1),
        ],
    ),
    ("ascending", &[("ascend", 0), ("descend", 1)]),
    ("success", &[("succe", 0), ("fail", 1)]),
    (
        "strong",
        &[("strong", 0), ("stronger", 0), ("weak", 1), ("weaker", 1)],
    ),
    ("male", &[("mal", 0), ("femal", 1)]),
    ("north", &[("north", 0), ("south", 1)]),
    ("east", &[("east", 0), ("west", 1)]),
];

/// Words after which the order of names and numbers changes the meaning.
pub(crate) const DIRECTIONAL: &[&str] = &[
    "from", "to", "into", "than", "vs", "versus", "before", "after", "over", "minus", "divided",
    "per", "toward", "towards", "onto",
];

/// Number words and their values (scale words multiply).
pub(crate) const NUMBER_WORDS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("hundred", 100.0),
    ("thousand", 1e3),
    ("million", 1e6),
    ("billion", 1e9),
    ("dozen", 12.0),
    ("half", 0.5),
    ("twice", 2.0),
    ("double", 2.0),
    ("triple", 3.0),
];

/// Units and currencies: (spelling, canonical name).
pub(crate) const UNITS: &[(&str, &str)] = &[
    ("km", "km"),
    ("kms", "km"),
    ("kilometer", "km"),
    ("kilometers", "km"),
    ("kilometre", "km"),
    ("kilometres", "km"),
    ("m", "m"),
    ("meter", "m"),
    ("meters", "m"),
    ("metre", "m"),
    ("metres", "m"),
    ("cm", "cm"),
    ("centimeter", "cm"),
    ("centimeters", "cm"),
    ("centimetre", "cm"),
    ("centimetres", "cm"),
    ("mm", "mm"),
    ("millimeter", "mm"),
    ("millimeters", "mm"),
    ("millimetre", "mm"),
    ("millimetres", "mm"),
    ("mi", "mile"),
    ("mile", "mile"),
    ("miles", "mile"),
    ("ft", "ft"),
    ("foot", "ft"),
    ("feet", "ft"),
    ("inch", "inch"),
    ("inches", "inch"),
    ("yard", "yard"),
    ("yards", "yard"),
    ("kg", "kg"),
    ("kgs", "kg"),
    ("kilogram", "kg"),
    ("kilograms", "kg"),
    ("kilo", "kg"),
    ("kilos", "kg"),
    ("g", "g"),
    ("gram", "g"),
    ("grams", "g"),
    ("mg", "mg"),
    ("milligram", "mg"),
    ("milligrams", "mg"),
    ("lb", "lb"),
    ("lbs", "lb"),
    ("pound", "lb"),
    ("pounds", "lb"),
    ("oz", "oz"),
    ("ounce", "oz"),
    ("ounces", "oz"),
    ("l", "l"),
    ("liter", "l"),
    ("liters", "l"),
    ("litre", "l"),
    ("litres", "l"),
    ("ml", "ml"),
    ("milliliter", "ml"),
    ("milliliters", "ml"),
    ("millilitre", "ml"),
    ("millilitres", "ml"),
    ("gallon", "gallon"),
    ("gallons", "gallon"),
    ("cup", "cup"),
    ("cups", "cup"),
    ("celsius", "celsius"),
    ("c", "celsius"),
    ("fahrenheit", "fahrenheit"),
    ("f", "fahrenheit"),
    ("kelvin", "kelvin"),
    ("usd", "usd"),
    ("dollar", "usd"),
    ("dollars", "usd"),
    ("eur", "eur"),
    ("euro", "eur"),
    ("euros", "eur"),
    ("gbp", "gbp"),
    ("sterling", "gbp"),
    ("jpy", "jpy"),
    ("yen", "jpy"),
    ("chf", "chf"),
    ("franc", "chf"),
    ("francs", "chf"),
    ("inr", "inr"),
    ("rupee", "inr"),
    ("rupees", "inr"),
    ("cny", "cny"),
    ("yuan", "cny"),
    ("s", "second"),
    ("sec", "second"),
    ("secs", "second"),
    ("second", "second"),
    ("seconds", "second"),
    ("min", "minute"),
    ("mins", "minute"),
    ("minute", "minute"),
    ("minutes", "minute"),
    ("h", "hour"),
    ("hr", "hour"),
    ("hrs", "hour"),
    ("hour", "hour"),
    ("hours", "hour"),
    ("day", "day"),
    ("days", "day"),
    ("week", "week"),
    ("weeks", "week"),
    ("month", "month"),
    ("months", "month"),
    ("year", "year"),
    ("years", "year"),
    ("ms", "ms"),
    ("millisecond", "ms"),
    ("milliseconds", "ms"),
    ("kb", "kb"),
    ("mb", "mb"),
    ("gb", "gb"),
    ("tb", "tb"),
    ("megabyte", "mb"),
    ("megabytes", "mb"),
    ("gigabyte", "gb"),
    ("gigabytes", "gb"),
    ("mbps", "mbps"),
    ("gbps", "gbps"),
    ("mph", "mph"),
    ("kph", "kph"),
    ("kmh", "kph"),
    ("px", "px"),
    ("pixels", "px"),
    ("percent", "percent"),
    ("%", "percent"),
    ("ghz", "ghz"),
    ("mhz", "mhz"),
    ("w", "watt"),
    ("watt", "watt"),
    ("watts", "watt"),
    ("kw", "kw"),
    ("kwh", "kwh"),
    ("v", "volt"),
    ("volts", "volt"),
    ("calorie", "kcal"),
    ("calories", "kcal"),
    ("kcal", "kcal"),
    ("acre", "acre"),
    ("acres", "acre"),
    ("hectare", "hectare"),
    ("hectares", "hectare"),
];

/// Unit names that also count as units when they stand without a number ("convert celsius to
/// fahrenheit"); the one-letter and ambiguous spellings above do not.
pub(crate) fn is_standalone_unit(word: &str) -> bool {
    word.len() > 2
        && !matches!(
            word,
            "min"
                | "sec"
                | "day"
                | "days"
                | "week"
                | "weeks"
                | "month"
                | "months"
                | "year"
                | "years"
                | "hour"
                | "hours"
                | "second"
                | "seconds"
                | "minute"
                | "minutes"
                | "cup"
                | "cups"
        )
}

/// Currency symbols written before an amount.
pub(crate) const CURRENCY_SYMBOLS: &[(char, &str)] = &[
    ('$', "usd"),
    ('€', "eur"),
    ('£', "gbp"),
    ('¥', "jpy"),
    ('₹', "inr"),
];

pub(crate) const MONTHS: &[(&str, u8)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

pub(crate) const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Relative date words; `this/next/last` + a period are joined ("next week").
pub(crate) const RELATIVE_DATES: &[&str] = &[
    "today",
    "tomorrow",
    "yesterday",
    "tonight",
    "weekend",
    "now",
    "currently",
    "ago",
];

pub(crate) const PERIOD_WORDS: &[&str] = &[
    "week", "month", "year", "weekend", "night", "quarter", "season",
];

/// Stopwords that mark a Latin-script language; a text's language is the one with most hits.
pub(crate) const LANGUAGE_STOPWORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "is", "what", "how", "and", "of", "to", "in", "my", "do", "i", "you", "for",
            "are", "can", "with", "does", "which", "why", "a", "who", "was", "were", "it", "me",
            "tell", "give", "about", "this", "that", "on", "at", "your", "an", "or", "if", "from",
            "by", "when", "where", "should", "get", "there", "best", "way", "known", "explain",
        ],
    ),
    (
        "fr",
        &[
            "le",
            "la",
            "les",
            "est",
            "quel",
            "quels",
            "quelle",
            "comment",
            "et",
            "de",
            "du",
            "des",
            "un",
            "une",
            "je",
            "mon",
            "ma",
            "mes",
            "pour",
            "pourquoi",
            "qu'est-ce",
            "dans",
            "avec",
            "sur",
            "est-ce",
            "où",
            "puis-je",
            "combien",
            "vous",
            "votre",
            "ce",
            "ces",
            "au",
            "aux",
            "est-il",
            "faire",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "los", "las", "es", "qué", "cómo", "y", "de", "del", "un", "una", "mi",
            "para", "por", "en", "cuál", "puedo", "dónde", "cuánto", "está", "su", "sus", "se",
            "hago", "mis", "lo",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "ist", "was", "wie", "und", "von", "zu", "ein", "eine", "mein",
            "meine", "für", "warum", "ich", "mit", "kann", "welche", "auf", "den", "wo", "finde",
            "sie", "ihre", "hat", "mache",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "la", "gli", "è", "che", "come", "e", "di", "del", "della", "un", "una",
            "mio", "mia", "mie", "per", "perché", "qual", "quale", "posso", "nel", "dove", "trovo",
            "con", "faccio", "quanto", "cos'è", "dov'è", "vostra", "i", "il", "ci",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "é", "que", "como", "e", "de", "do", "da", "um", "uma", "meu",
            "minha", "para", "por", "qual", "posso", "em", "no", "na", "vocês", "cozinhar",
            "quais",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "is", "wat", "hoe", "en", "van", "een", "mijn", "voor", "waarom", "ik",
            "met", "kan", "welke", "op",
        ],
    ),
];

/// Names that count as entities even in lower case: countries, large cities, languages,
/// programming languages and widely named products. Matched on single words or word pairs.
pub(crate) const GAZETTEER: &[&str] = &[
    // countries
    "france",
    "germany",
    "spain",
    "italy",
    "portugal",
    "japan",
    "china",
    "india",
    "brazil",
    "canada",
    "mexico",
    "russia",
    "australia",
    "egypt",
    "kenya",
    "nigeria",
    "argentina",
    "chile",
    "peru",
    "sweden",
    "norway",
    "denmark",
    "finland",
    "poland",
    "greece",
    "turkey",
    "iran",
    "iraq",
    "israel",
    "ireland",
    "netherlands",
    "belgium",
    "switzerland",
    "austria",
    "korea",
    "vietnam",
    "thailand",
    "indonesia",
    "pakistan",
    "colombia",
    "morocco",
    "ukraine",
    "usa",
    "uk",
    "united states",
    "united kingdom",
    "south africa",
    "new zealand",
    "south korea",
    "north korea",
    // cities
    "paris",
    "london",
    "berlin",
    "madrid",
    "rome",
    "lisbon",
    "tokyo",
    "beijing",
    "delhi",
    "mumbai",
    "toronto",
    "sydney",
    "cairo",
    "moscow",
    "dubai",
    "singapore",
    "amsterdam",
    "vienna",
    "prague",
    "chicago",
    "boston",
    "seattle",
    "miami",
    "osaka",
    "seoul",
    "bangkok",
    "istanbul",
    "athens",
    "new york",
    "los angeles",
    "san francisco",
    "hong kong",
    "buenos aires",
    "mexico city",
    // natural and spoken languages
    "english",
    "french",
    "german",
    "spanish",
    "italian",
    "portuguese",
    "japanese",
    "chinese",
    "mandarin",
    "hindi",
    "arabic",
    "russian",
    "korean",
    "dutch",
    "swedish",
    "polish",
    "greek",
    "turkish",
    // programming languages, tools and products
    "python",
    "java",
    "javascript",
    "typescript",
    "rust",
    "golang",
    "ruby",
    "php",
    "kotlin",
    "swift",
    "scala",
    "haskell",
    "perl",
    "c++",
    "c#",
    "sql",
    "postgres",
    "postgresql",
    "mysql",
    "sqlite",
    "redis",
    "mongodb",
    "docker",
    "kubernetes",
    "linux",
    "windows",
    "macos",
    "ubuntu",
    "debian",
    "android",
    "ios",
    "iphone",
    "ipad",
    "excel",
    "word",
    "chrome",
    "firefox",
    "safari",
    "github",
    "gitlab",
    "git",
    "aws",
    "azure",
    "gcp",
    "react",
    "vue",
    "angular",
    "django",
    "flask",
    "node",
    "npm",
    "pip",
    "cargo",
    "bash",
    "zsh",
    "powershell",
    "vim",
    "emacs",
    "vscode",
    "slack",
    "zoom",
    "teams",
    "outlook",
    "gmail",
    "paypal",
    "stripe",
    "visa",
    "mastercard",
    "netflix",
    "spotify",
    "amazon",
    "google",
    "apple",
    "microsoft",
    "tesla",
    "nvidia",
    "intel",
    "amd",
    // planets and a few names questions are often about
    "mercury",
    "venus",
    "earth",
    "mars",
    "jupiter",
    "saturn",
    "uranus",
    "neptune",
    "pluto",
];

/// Words that start sentences and are capitalised for that reason only.
pub(crate) fn is_function_word(word: &str) -> bool {
    matches!(
        word,
        "i" | "i'm"
            | "a"
            | "an"
            | "the"
            | "what"
            | "how"
            | "why"
            | "when"
            | "where"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "is"
            | "are"
            | "was"
            | "were"
            | "do"
            | "does"
            | "did"
            | "can"
            | "could"
            | "would"
            | "should"
            | "will"
            | "shall"
            | "may"
            | "might"
            | "must"
            | "please"
            | "hi"
            | "hello"
            | "hey"
            | "thanks"
            | "ok"
            | "okay"
            | "yes"
            | "my"
            | "our"
    )
}

/// Cheap suffix stripping for polarity lookup: "enabling", "enabled", "enables" → "enabl".
pub(crate) fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if let Some(stripped) = word.strip_suffix(suffix) {
            if stripped.len() >= 3 {
                return stripped;
            }
        }
    }
    word
}
