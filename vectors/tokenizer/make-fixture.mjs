// make-fixture.mjs -- build the Llama 3 tokenizer parity fixture from the npm
// package llama3-tokenizer-js (see README.md in this folder).
//
//   node make-fixture.mjs PACKAGE_DIR OUT_DIR
//
// writes OUT_DIR/tokens.txt and OUT_DIR/merges.txt (one per line, in id and
// rank order; mkvocab.c turns them into a GGUF), parity.json: every text
// below with the ids the package's own encoder gives (no BOS, no EOS; the
// special tokens in the "special" entries recognised, as the package always
// does), and parity-random.json: the same for 500 seeded random strings.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pkg, out] = process.argv.slice(2);
if (!pkg || !out) {
    console.error('usage: node make-fixture.mjs PACKAGE_DIR OUT_DIR');
    process.exit(2);
}
const mod = await import(pathToFileURL(resolve(pkg, 'bundle/llama3-tokenizer-with-baked-data.js')));
const tok = mod.default;

// the vocabulary and the merges, in order (a token never holds a newline:
// byte-level strings map \n to "Ċ")
for (const t of tok.vocabById) if (t.includes('\n')) throw new Error('token with a newline');
writeFileSync(join(out, 'tokens.txt'), tok.vocabById.join('\n') + '\n');
writeFileSync(join(out, 'merges.txt'), [...tok.merges.keys()].join('\n') + '\n');

const texts = [
    // ASCII prose, punctuation, contractions in every case
    'Hello world!',
    'The quick brown fox jumps over the lazy dog.',
    "I'm sure you'll agree: it's what we've said, they'd known, and we're done.",
    "DON'T SHOUT, I'LL HEAR YOU; YOU'RE LOUD, SHE'S QUIET, WE'VE GONE, HE'D LEFT, I'M HERE.",
    "rock'n'roll 'quoted' ''double'' '' ' 's 't",
    // digit runs (split in threes), numbers with separators
    '1 12 123 1234 12345 123456 1234567 3.14159 2,385.00 1e-5 0x1F -42 +7',
    'Call 555-0199 before 2026-11-26T08:47:00Z; order #12345678901234567890.',
    // whitespace runs, tabs and newlines
    'two  spaces,   three,    four.      six at the end      ',
    '\ttab\t\tdouble tab\n\nnew paragraph\r\nwindows line\rold mac\n\n\n',
    '   leading spaces\n  \n \t \n trailing\n',
    '\n',
    ' ',
    '',
    // accents and other Latin scripts
    'Café, naïve, résumé, façade, coöperate, Ångström, Ærøskøbing, smörgåsbord.',
    'Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy. Şişli İstanbul ığdır.',
    'Straße, Maß, Fußgänger; ÉCOLE, École, ŒUVRE, œuvre.',
    // Greek, Cyrillic, Hebrew, Arabic, Devanagari, Thai
    'Γειά σου Κόσμε! Ελληνικά: αβγδεζηθικλμνξοπρστυφχψω.',
    'Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.',
    'שלום עולם! مرحبا بالعالم! हिन्दी में नमस्ते दुनिया। สวัสดีชาวโลก',
    // CJK
    '你好，世界！我们正在测试分词器。',
    'こんにちは世界。カタカナとひらがなと漢字を混ぜる。東京タワー',
    '안녕하세요 세계! 한국어 토크나이저 시험입니다.',
    '中文English混合123文本，全角字符：ＡＢＣ１２３。',
    // emoji, including joiners, skin tones and flags
    'Emoji: 😀 😃 😄 👍🏽 👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 ❤️ ✅ 🚀🚀🚀',
    '🦙🦙 llama 🦙 and a 🧪 test… “quotes” ‘single’ — dash – en ‐ hyphen',
    // symbols and math
    '∀x∈ℝ: x² ≥ 0; ∑_{i=1}^{n} i = n(n+1)/2 ≈ ½n²; α→β ⇒ γ ≠ δ ± ε ∞',
    '© 2026 ™ ® € £ ¥ ₹ ¢ § ¶ † ‡ • ° ′ ″',
    // code
    'int main(void) {\n    printf("hello, %s\\n", argv[1]);\n    return 0;\n}\n',
    'def f(x: int) -> int:\n\treturn x ** 2  # square\n\n\nprint(f(12345))\n',
    '<html><body class="main"><p>Text &amp; more</p></body></html>',
    '{"key": [1, 2.5, "three", null, true], "nested": {"a": -0.001}}',
    'SELECT id, name FROM users WHERE age >= 21 AND name LIKE \'%son\';',
    'x+=1;y-=2;z*=3;a/=4;b%=5;c<<=6;d>>=7;e&&f||g!h?i:j',
    '#!/bin/sh\nset -eu\nfor f in *.c; do gcc -O2 -c "$f" || exit 1; done\n',
    // URLs, paths, mixed case and runs of punctuation
    'https://example.com/path/to/file.gguf?x=1&y=2#frag /usr/lib/x86_64-linux-gnu/libpcre2-8.so.0',
    'CamelCaseIdentifier snake_case_name SCREAMING_CASE kebab-case-name',
    '!!! ??? ... --- *** ### $$$ %%% ^^^ &&& ((())) [[[]]] {{{}}} <<<>>> ~~~ ```',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    // a longer paragraph
    'BitNet b1.58 models store every weight as -1, 0 or +1 with one scale per tensor. ' +
    'Tokenization must be exact: one wrong id, and every later comparison of logits is meaningless. ' +
    'This sentence repeats words, words, words to exercise the cache; numbers like 2048 and 4096 too.',
    // special tokens (recognised with --special)
    '<|begin_of_text|>Hello<|eot_id|>',
    '<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>',
    'text <|reserved_special_token_5|> more <|end_of_text|>',
];
const cases = texts.map(text => ({
    text,
    special: /<\|[a-z_0-9]+\|>/.test(text),
    ids: tok.encode(text, { bos: false, eos: false }),
}));
// every case must decode back to its text with the package's own decoder
for (const c of cases) if (tok.decode(c.ids) !== c.text) throw new Error('package round trip failed: ' + c.text);
writeFileSync(join(out, 'parity.json'), JSON.stringify({
    source: 'llama3-tokenizer-js@1.2.0 encode(text, { bos: false, eos: false })',
    cases,
}, null, 1) + '\n');

// random strings: code points drawn by a seeded mulberry32 from ranges that
// cover scripts, combining marks, emoji, digits and whitespace (U+0085 and
// U+FEFF left out: JavaScript's \s and PCRE2's disagree on them)
let seed = 2385;
const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const ranges = [[0x20, 0x7e], [0x09, 0x0d], [0xa0, 0x24f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff],
                [0x590, 0x6ff], [0x900, 0x97f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3],
                [0x2000, 0x206f], [0x1f300, 0x1faff], [0x30, 0x39], [0x20, 0x20], [0x27, 0x27]];
const random = [];
for (let i = 0; i < 500; i++) {
    let s = '';
    for (let k = 1 + Math.floor(rand() * 60); k > 0; k--) {
        const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
        const cp = lo + Math.floor(rand() * (hi - lo + 1));
        s += cp === 0x85 || cp === 0xfeff ? 'x' : String.fromCodePoint(cp);
    }
    const ids = tok.encode(s, { bos: false, eos: false });
    if (tok.decode(ids) !== s) throw new Error('package round trip failed on a random string');
    random.push({ text: s, special: false, ids });
}
writeFileSync(join(out, 'parity-random.json'), JSON.stringify({
    source: 'llama3-tokenizer-js@1.2.0 encode(text, { bos: false, eos: false }); texts from mulberry32 seed 2385',
    cases: random,
}) + '\n');
console.log(`${tok.vocabById.length} tokens, ${tok.merges.size} merges, ${cases.length} + ${random.length} cases`);
