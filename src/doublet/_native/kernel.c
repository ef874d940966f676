/*
 * doublet._kernel — the per-document hot loops of doublet, in C.
 *
 * One implementation of each of these algorithms, used by every engine through doublet.tokens and
 * doublet.analysis (Python never re-implements them):
 *
 *   words       a word is a maximal run of letters, marks and digits (Unicode L, M, N); characters of
 *               scripts written without spaces (Han, Kana, Thai, ...) are words by themselves; a word
 *               broken by a hyphen at a line end and continued by a lower-case ASCII letter is one word;
 *               URLs and e-mail addresses are not words.
 *   normalize   each character is replaced by its normalized form (NFKC, casefold, accents dropped on
 *               Latin/Greek/Cyrillic/Hebrew/Arabic), from the generated table unitables.h.
 *   word hash   FNV-1a over the normalized code points, finished with the SplitMix64 mixer.
 *   shingles    hash of n consecutive word hashes: acc = acc * M + h, finished with SplitMix64.
 *   MinHash     one-permutation hashing (Li, Owen & Zhang 2012) with optimal densification (Shrivastava
 *               2017): each shingle goes to one of k bins and keeps the bin's minimum; empty bins borrow
 *               from a bin chosen by a fixed probe sequence. Every bin collides with probability equal to
 *               the Jaccard similarity, as k independent permutations would, at the cost of one hash per
 *               shingle instead of k.
 *   winnowing   rightmost minimum of every window of w shingle hashes (Schleimer et al. 2003).
 *
 * The module also flags texts that contain typical mojibake (UTF-8 read as Windows-1252), so that
 * Python can repair them with ftfy and tokenize the repaired text.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unitables.h"

#define FLAG_MOJIBAKE 1u

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static inline uint16_t entry_of(Py_UCS4 cp) {
    if (cp >= 0x110000) return 0;
    return dbl_stage2[(uint32_t)dbl_stage1[cp >> 8] * 256u + (cp & 255u)];
}

static inline uint64_t feed(uint64_t h, uint16_t e, Py_UCS4 cp) {
    uint8_t len = dbl_entry_len[e];
    if (len == 255) return (h ^ cp) * 0x100000001B3ULL;
    const uint32_t *p = dbl_pool + dbl_entry_off[e];
    for (uint8_t k = 0; k < len; k++) h = (h ^ p[k]) * 0x100000001B3ULL;
    return h;
}

#define FNV_INIT 0xCBF29CE484222325ULL

/* Characters that start / continue typical UTF-8-as-cp1252 mojibake (same sets as doublet.normalize). */
static inline int moji_first(Py_UCS4 c) {
    return c == 0xC2 || c == 0xC3 || c == 0xC5 || c == 0xCE || c == 0xCF || c == 0xD0 || c == 0xD1 ||
           c == 0xD8 || c == 0xD9 || c == 0xE2 || c == 0xEF;
}
static inline int moji_second(Py_UCS4 c) {
    if (c >= 0x80 && c <= 0xBF) return 1;
    switch (c) {
    case 0x152: case 0x153: case 0x160: case 0x161: case 0x178: case 0x17D: case 0x17E: case 0x192:
    case 0x2C6: case 0x2DC: case 0x2013: case 0x2014: case 0x2020: case 0x2021: case 0x2022: case 0x2026:
    case 0x2030: case 0x2039: case 0x203A: case 0x20AC: case 0x2122:
        return 1;
    default:
        return c >= 0x2018 && c <= 0x201E;
    }
}

/* ------------------------------------------------------------------------------------------ text access */

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

static inline Py_UCS4 at(const Text *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }

/* The index of the first '\n' at or after i (t->n if none), with the character width chosen once per call. */
static Py_ssize_t next_newline(const Text *t, Py_ssize_t i) {
    if (i >= t->n) return t->n;
    if (t->kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *p = t->data, *q = memchr(p + i, '\n', (size_t)(t->n - i));
        return q ? q - p : t->n;
    }
    if (t->kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *p = t->data;
        while (i < t->n && p[i] != '\n') i++;
        return i;
    }
    const Py_UCS4 *p = t->data;
    while (i < t->n && p[i] != '\n') i++;
    return i;
}

/* Upper and lower case, with ASCII answered without the Unicode database. */
static inline int is_upper(Py_UCS4 c) { return c < 128 ? c >= 'A' && c <= 'Z' : Py_UNICODE_ISUPPER(c); }
static inline int is_lower(Py_UCS4 c) { return c < 128 ? c >= 'a' && c <= 'z' : Py_UNICODE_ISLOWER(c); }

static inline int is_space(Py_UCS4 c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static inline int url_stop(Py_UCS4 c) { return is_space(c) || c == '<' || c == '>' || c == '"' || c == 0x201C || c == 0x201D; }
static inline int ascii_alpha(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline int ascii_alnum(Py_UCS4 c) { return ascii_alpha(c) || (c >= '0' && c <= '9'); }
static inline int host_char(Py_UCS4 c) { return ascii_alnum(c) || c == '.' || c == '-'; }
static inline int scheme_char(Py_UCS4 c) { return ascii_alnum(c) || c == '+' || c == '.' || c == '-'; }
static inline int mail_char(Py_UCS4 c) { return ascii_alnum(c) || c == '_' || c == '.' || c == '+' || c == '-'; }

static Py_ssize_t url_end(const Text *t, Py_ssize_t i) {
    while (i < t->n && !url_stop(at(t, i))) i++;
    return i;
}

/* Mark URLs (scheme://..., www...., host.tld/path) and e-mail addresses in skip[]; returns 1 if any. */
static int mark_addresses(const Text *t, uint8_t *skip) {
    int any = 0;
    Py_ssize_t n = t->n;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = at(t, i);
        Py_ssize_t s = -1, e = -1;
        if (c == ':' && i + 2 < n && at(t, i + 1) == '/' && at(t, i + 2) == '/') {
            s = i;
            while (s > 0 && scheme_char(at(t, s - 1))) s--;
            if (s < i && ascii_alpha(at(t, s))) e = url_end(t, i + 3); else s = -1;
        } else if ((c == 'w' || c == 'W') && i + 3 < n && (at(t, i + 1) | 32) == 'w' && (at(t, i + 2) | 32) == 'w' &&
                   at(t, i + 3) == '.' && (i == 0 || !ascii_alnum(at(t, i - 1)))) {
            s = i;
            e = url_end(t, i + 4);
        } else if (c == '/' && i > 0 && host_char(at(t, i - 1))) {
            Py_ssize_t b = i;
            while (b > 0 && host_char(at(t, b - 1))) b--;
            /* a dot followed by >= 2 letters right before the slash, at a word boundary */
            Py_ssize_t k = i, letters = 0;
            while (k > b && ascii_alpha(at(t, k - 1))) { k--; letters++; }
            if (letters >= 2 && k > b && at(t, k - 1) == '.' && k - 1 > b && (b == 0 || !ascii_alnum(at(t, b - 1)))) {
                s = b;
                e = url_end(t, i);
            }
        } else if (c == '@' && i > 0 && mail_char(at(t, i - 1))) {
            Py_ssize_t b = i, k = i + 1, dot = 0;
            while (b > 0 && mail_char(at(t, b - 1))) b--;
            while (k < n && (ascii_alnum(at(t, k)) || at(t, k) == '-' || at(t, k) == '.' || at(t, k) == '_')) {
                if (at(t, k) == '.' && k > i + 1) dot = 1;
                k++;
            }
            if (dot) { s = b; e = k; }
        }
        if (s >= 0 && e > s) {
            memset(skip + s, 1, (size_t)(e - s));
            any = 1;
            if (e - 1 > i) i = e - 1;
        }
    }
    return any;
}

static int may_have_address(const Text *t) {
    for (Py_ssize_t i = 0; i < t->n; i++) {
        Py_UCS4 c = at(t, i);
        if (c == '/' || c == '@' || c == 'w' || c == 'W') return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ buffers */

typedef struct {
    void *p;
    size_t len, cap, item;
} Buf;

static int buf_reserve(Buf *b, size_t more) {
    if (b->len + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more) cap *= 2;
    void *q = realloc(b->p, cap * b->item);
    if (!q) return -1;
    b->p = q;
    b->cap = cap;
    return 0;
}

#define BUF_PUSH(b, T, v) (((T *)(b).p)[(b).len++] = (v))

static PyObject *buf_bytes(Buf *b) {
    return PyBytes_FromStringAndSize((const char *)b->p, (Py_ssize_t)(b->len * b->item));
}

static void buf_free(Buf *b) { free(b->p); b->p = NULL; b->len = b->cap = 0; }

/* ------------------------------------------------------------------------------------------ tokenizer */

/* Tokenize t into hashes (and offsets when starts != NULL). Returns flags, or -1 on memory error. */
static int tokenize_text(const Text *t, Buf *hashes, Buf *starts, Buf *ends, Buf *skipbuf) {
    unsigned flags = 0;
    Py_ssize_t n = t->n, i = 0;
    const uint8_t *skip = NULL;
    if (may_have_address(t)) {
        skipbuf->len = 0;
        if (buf_reserve(skipbuf, (size_t)n + 1)) return -1;
        memset(skipbuf->p, 0, (size_t)n + 1);
        if (mark_addresses(t, (uint8_t *)skipbuf->p)) skip = (const uint8_t *)skipbuf->p;
    }
    while (i < n) {
        Py_UCS4 cp = at(t, i);
        if (cp >= 0xC2 && cp <= 0xEF && i + 1 < n && moji_first(cp) && moji_second(at(t, i + 1))) flags |= FLAG_MOJIBAKE;
        if (skip && skip[i]) { i++; continue; }
        uint16_t e = entry_of(cp);
        uint8_t cls = dbl_entry_class[e];
        if (cls == 0) { i++; continue; }
        Py_ssize_t start = i;
        uint64_t h = feed(FNV_INIT, e, cp);
        i++;
        if (cls == 1) {
            for (;;) {
                while (i < n && !(skip && skip[i])) {
                    Py_UCS4 c = at(t, i);
                    uint16_t f = entry_of(c);
                    if (dbl_entry_class[f] != 1) break;
                    if (c >= 0xC2 && c <= 0xEF && i + 1 < n && moji_first(c) && moji_second(at(t, i + 1))) flags |= FLAG_MOJIBAKE;
                    h = feed(h, f, c);
                    i++;
                }
                /* a hyphen at a line end continued by a lower-case ASCII letter joins the two parts */
                if (i + 1 < n && at(t, i) == '-') {
                    Py_ssize_t j = i + 1;
                    if (at(t, j) == '\r') j++;
                    if (j < n && at(t, j) == '\n') {
                        j++;
                        while (j < n && (at(t, j) == ' ' || at(t, j) == '\t')) j++;
                        if (j < n && at(t, j) >= 'a' && at(t, j) <= 'z' && !(skip && skip[j])) { i = j; continue; }
                    }
                }
                break;
            }
        }
        if (buf_reserve(hashes, 1)) return -1;
        BUF_PUSH(*hashes, uint64_t, mix64(h));
        if (starts) {
            if (buf_reserve(starts, 1) || buf_reserve(ends, 1)) return -1;
            BUF_PUSH(*starts, int64_t, (int64_t)start);
            BUF_PUSH(*ends, int64_t, (int64_t)i);
        }
    }
    return (int)flags;
}

/* ------------------------------------------------------------------------------------------ shingles */

#define NGRAM_MUL 0x9E3779B97F4A7C15ULL

/* n-gram hashes of word hashes h[0..t): out must hold max(1, t - n + 1) values; returns the count. */
static size_t ngrams(const uint64_t *h, size_t t, size_t n, uint64_t *out) {
    if (t == 0) return 0;
    size_t k = n < t ? n : t;
    size_t m = t - k + 1;
    for (size_t i = 0; i < m; i++) {
        uint64_t acc = h[i];
        for (size_t j = 1; j < k; j++) acc = acc * NGRAM_MUL + h[i + j];
        out[i] = mix64(acc + (uint64_t)k);
    }
    return m;
}

/* One-permutation MinHash with optimal densification. Returns 1 if the signature is defined. */
static int oph(const uint64_t *s, size_t m, uint32_t k, uint64_t seed, uint32_t *sig, uint8_t *filled) {
    if (m == 0) return 0;
    uint64_t sm = mix64(seed ^ 0x5851F42D4C957F2DULL);
    for (uint32_t b = 0; b < k; b++) { sig[b] = UINT32_MAX; filled[b] = 0; }
    for (size_t i = 0; i < m; i++) {
        uint64_t y = mix64(s[i] ^ sm);
        uint32_t b = (uint32_t)(((y >> 32) * (uint64_t)k) >> 32);
        uint32_t v = (uint32_t)y;
        if (!filled[b] || v < sig[b]) { sig[b] = v; filled[b] = 1; }
    }
    for (uint32_t b = 0; b < k; b++) {
        if (filled[b]) continue;
        for (uint64_t attempt = 1;; attempt++) {
            uint64_t r = mix64(sm + (uint64_t)b * 0x9E3779B97F4A7C15ULL + attempt * 0xC2B2AE3D27D4EB4FULL);
            uint32_t j = (uint32_t)(((r >> 32) * (uint64_t)k) >> 32);
            if (filled[j]) { sig[b] = sig[j]; break; }
        }
    }
    return 1;
}

/* Winnowing: positions of the rightmost minimum of every window of w values, deduplicated. */
static size_t winnow(const uint64_t *s, size_t m, size_t w, uint32_t *pos) {
    if (m == 0) return 0;
    if (m <= w) {
        size_t best = 0;
        for (size_t i = 1; i < m; i++) if (s[i] <= s[best]) best = i;
        pos[0] = (uint32_t)best;
        return 1;
    }
    size_t cnt = 0, cur = 0;
    for (size_t i = 1; i < w; i++) if (s[i] <= s[cur]) cur = i;
    pos[cnt++] = (uint32_t)cur;
    for (size_t start = 1; start + w <= m; start++) {
        size_t last = start + w - 1;
        if (cur < start) {
            cur = start;
            for (size_t i = start + 1; i <= last; i++) if (s[i] <= s[cur]) cur = i;
        } else if (s[last] <= s[cur]) {
            cur = last;
        }
        if (pos[cnt - 1] != (uint32_t)cur) pos[cnt++] = (uint32_t)cur;
    }
    return cnt;
}

/* ------------------------------------------------------------------------------------------ shape */
/*
 * Which words of a plain text sit in template-shaped lines (navigation and headline lists, "Key: value"
 * header lines, copyright and menu lines, signatures): see doublet/template.py for the rules and why.
 * One pass over the physical lines, then logical lines (hard wraps undone), kinds, blocks, labels.
 */
enum { K_BLANK = 0, K_CONTENT = 1, K_SHORT = 2, K_STRONG = 3 };
#define SHAPE_MAX_WRAP 120     /* wider lines are paragraphs, not hard wraps */
#define SHAPE_GOOD_WORDS 20    /* a line this long is prose whatever its ending */
#define SHAPE_STRONG_WORDS 25  /* cues (©, separators, Key:) count only on lines this short */
#define SHAPE_SIG_LINES 10     /* a signature delimiter is followed by at most this many lines */
#define SHAPE_EDGE_PROSE 25    /* a paragraph this long ends the end zone */
#define SHAPE_TAIL_WORDS 60    /* the paragraph before the end zone is the text's tail up to this length */
#define SHAPE_CONT_CHARS 30    /* a line this long, ending mid-sentence, continues on a lower-case next line */

typedef struct {
    int64_t s, e;    /* characters [s, e), trailing spaces excluded */
    int64_t len;     /* e - s */
    int64_t fw;      /* length of the first whitespace-delimited token */
    int64_t w0, w1;  /* words whose start lies in [s, e) */
    uint8_t blank, cue;
} PLine;

typedef struct {
    int64_t s, e;
    int64_t w0, w1;
    uint8_t kind, lab, good, quoted, terminal;
} LLine;

static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static inline int is_closing(Py_UCS4 c) {
    return c == '"' || c == '\'' || c == 0x201D || c == 0x2019 || c == 0xBB || c == ')' || c == ']' || c == '}' ||
           c == '*' || c == '_' || is_space(c);
}
static inline int is_terminal(Py_UCS4 c) {
    return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == 0x3002 || c == 0xFF01 || c == 0xFF1F;
}
static inline int is_sep(Py_UCS4 c) {
    return c == '|' || c == 0xB7 || c == 0x2022 || c == 0xBB || c == 0x203A || c == '/' || c == 0x25B8;
}

/* A line of one repeated rule character (- _ = * ~ #), at least two of them, spaces aside. */
static int is_rule(const Text *t, int64_t s, int64_t e) {
    Py_UCS4 c0 = 0;
    int64_t n = 0;
    for (int64_t i = s; i < e; i++) {
        Py_UCS4 c = at(t, i);
        if (is_space(c)) continue;
        if (!(c == '-' || c == '_' || c == '=' || c == '*' || c == '~' || c == '#')) return 0;
        if (c0 && c != c0) return 0;
        c0 = c;
        n++;
    }
    return n >= 2;
}

/* Does [s, e) end a sentence (closing quotes and brackets aside)? */
static int ends_sentence(const Text *t, int64_t s, int64_t e) {
    while (e > s && is_closing(at(t, e - 1))) e--;
    return e > s && is_terminal(at(t, e - 1));
}

/* "Key: value": the line starts with a token of letters, digits and hyphens right before a colon. */
static int is_keyval(const Text *t, int64_t s, int64_t e) {
    while (s < e && is_space(at(t, s))) s++;
    if (s >= e || !ascii_alpha(at(t, s))) return 0;
    int64_t i = s;
    while (i < e && (ascii_alnum(at(t, i)) || at(t, i) == '-') && i - s <= 30) i++;
    return i < e && at(t, i) == ':' && (i + 1 == e || is_space(at(t, i + 1)));
}

/* An e-mail address in [s, e). */
static int has_email(const Text *t, int64_t s, int64_t e) {
    for (int64_t i = s + 1; i + 1 < e; i++) {
        if (at(t, i) != '@' || !mail_char(at(t, i - 1)) || !ascii_alnum(at(t, i + 1))) continue;
        for (int64_t k = i + 1; k + 1 < e && (ascii_alnum(at(t, k)) || at(t, k) == '-' || at(t, k) == '.'); k++)
            if (at(t, k) == '.' && ascii_alpha(at(t, k + 1))) return 1;
    }
    return 0;
}

/* A template cue on a physical line of at most SHAPE_STRONG_WORDS words: ©, two or more separators
   ( | · • » › / ▸ between spaces), an e-mail address, or "Key: value" that does not end a sentence. */
static int has_cue(const Text *t, const PLine *P) {
    if (P->blank || P->w1 - P->w0 > SHAPE_STRONG_WORDS) return 0;
    int64_t s = P->s, e = P->e, seps = 0;
    for (int64_t i = s; i < e; i++) {
        Py_UCS4 c = at(t, i);
        if (c == 0xA9) return 1;
        if (is_sep(c) && i > s && i + 1 < e && is_space(at(t, i - 1)) && is_space(at(t, i + 1))) seps++;
    }
    if (seps >= 2 || has_email(t, s, e)) return 1;
    while (s < e && is_space(at(t, s))) s++;
    /* a line of a box drawn around a signature or a notice: "| ... |", "< ... >", "+ ... +", "* ... *" */
    Py_UCS4 c0 = at(t, s), c1 = at(t, e - 1);
    if (e - s > 2 && P->w1 - P->w0 >= 2 && ((c0 == '|' && c1 == '|') || (c0 == '<' && c1 == '>') ||
                                           (c0 == '+' && c1 == '+') || (c0 == '*' && c1 == '*') ||
                                           (c0 == '#' && c1 == '#')))
        return 1;
    return s < e && at(t, s) != '>' && is_keyval(t, s, e) && !ends_sentence(t, s, e);
}

/* Does physical line b continue line a's sentence (a: long enough, no sentence end; b: starts lower case or
   with a digit)? */
static int continues(const Text *t, const PLine *a, const PLine *b) {
    if (a->len < SHAPE_CONT_CHARS || ends_sentence(t, a->s, a->e)) return 0;
    int64_t f = b->s;
    while (f < b->e && is_space(at(t, f))) f++;
    if (f >= b->e) return 0;
    Py_UCS4 c = at(t, f);
    return (c >= '0' && c <= '9') || (c < 0x110000 && Py_UNICODE_ISLOWER(c));
}

/* Kind of logical line L (see doublet.template); cue lines are K_STRONG before this is asked. */
static uint8_t line_kind(const Text *t, const int64_t *st, const int64_t *en, LLine *L) {
    int64_t s = L->s, e = L->e, nw = L->w1 - L->w0;
    while (s < e && is_space(at(t, s))) s++;
    if (s >= e) return K_BLANK;
    L->quoted = at(t, s) == '>';
    int64_t q = s;  /* after quote markers */
    while (q < e && (at(t, q) == '>' || at(t, q) == '|' || is_space(at(t, q)))) q++;
    L->terminal = (uint8_t)ends_sentence(t, q, e);
    if (L->quoted || nw >= SHAPE_GOOD_WORDS || (L->terminal && nw >= 5)) return K_CONTENT;
    if (nw >= 2) {  /* figures: a table row is data, not navigation */
        int64_t nd = 0;
        for (int64_t w = L->w0; w < L->w1; w++) {
            for (int64_t i = st[w]; i < en[w]; i++) {
                Py_UCS4 c = at(t, i);
                if (c >= '0' && c <= '9') { nd++; break; }
            }
        }
        if (10 * nd >= 3 * nw || (nd >= 1 && nw <= 8)) return K_CONTENT;
    }
    return K_SHORT;
}

/* Per-word shape labels of text t with words st/en (nw of them) into lab[nw]: 1 = template-shaped line, 2 = in
   the text's end zone only, 0 = neither. */
static int shape_words(const Text *t, const int64_t *st, const int64_t *en, int64_t nw, uint8_t *lab) {
    memset(lab, 0, (size_t)nw);
    if (nw == 0) return 0;
    Py_ssize_t n = t->n;
    int64_t np_ = 1;
    for (Py_ssize_t i = next_newline(t, 0); i < n; i = next_newline(t, i + 1)) np_++;
    PLine *P = malloc(sizeof(PLine) * (size_t)np_);
    LLine *L = malloc(sizeof(LLine) * (size_t)np_);
    int64_t *lens = malloc(sizeof(int64_t) * (size_t)(2 * np_ + 2));
    if (!P || !L || !lens) { free(P); free(L); free(lens); return -1; }
    /* physical lines, their words and cues */
    int64_t k = 0, nonblank = 0, w = 0;
    for (Py_ssize_t i = 0; i <= n; k++) {
        Py_ssize_t j = next_newline(t, i);
        Py_ssize_t e = j;
        while (e > i && is_space(at(t, e - 1))) e--;
        Py_ssize_t f = i;
        while (f < e && is_space(at(t, f))) f++;
        Py_ssize_t g = f;
        while (g < e && !is_space(at(t, g))) g++;
        P[k].s = i; P[k].e = e; P[k].len = e - i; P[k].fw = g - f; P[k].blank = f >= e;
        while (w < nw && st[w] < i) w++;
        P[k].w0 = w;
        while (w < nw && st[w] < j) w++;
        P[k].w1 = w;
        P[k].cue = (uint8_t)has_cue(t, &P[k]);
        if (!P[k].blank) nonblank++;
        i = j + 1;
    }
    /* a mail or news header at the start: two or more "Key: value" lines (folded lines, indented, continue
       them) */
    {
        int64_t i = 0, keys = 0, end = 0;
        while (i < k && P[i].blank) i++;
        for (; i < k && !P[i].blank; i++) {
            if (is_keyval(t, P[i].s, P[i].e) && !is_space(at(t, P[i].s))) keys++;
            else if (!(keys && is_space(at(t, P[i].s)))) break;
            end = i + 1;
        }
        if (keys >= 2)
            for (int64_t x = 0; x < end; x++) if (!P[x].blank) P[x].cue = 1;
    }
    /* Hard wraps. Greedy wrapping at width W leaves lines with len <= W whose next word would not have fitted:
       len + 1 + fw(next) > W. Each line followed by a non-blank one allows W in [len, len + fw(next)]; the
       wrap width is the W (30..SHAPE_MAX_WRAP) that explains the most line breaks. Text is hard-wrapped at W
       when that is at least 3 breaks and a quarter of the lines in paragraphs of two lines or more (a line
       alone between blank lines shows no wrap either way), and fewer than twice as many lines are longer than W
       (long paragraphs on one line each, with headlines of similar length, are not a wrap). */
    int64_t W = 0;
    int64_t joined = 0;  /* non-blank lines with a non-blank neighbour */
    for (int64_t i = 0; i < k; i++)
        joined += !P[i].blank && ((i > 0 && !P[i - 1].blank) || (i + 1 < k && !P[i + 1].blank));
    if (nonblank >= 3) {
        int64_t ne = 0;
        for (int64_t i = 0; i + 1 < k; i++) {
            if (P[i].blank || P[i + 1].blank || P[i].len > SHAPE_MAX_WRAP) continue;
            lens[ne++] = 2 * P[i].len;                       /* opens at len (even: opens sort first) */
            lens[ne++] = 2 * (P[i].len + P[i + 1].fw) + 1;   /* closes after len + fw */
        }
        qsort(lens, (size_t)ne, sizeof(int64_t), cmp_i64);
        int64_t cover = 0, best = 0;
        for (int64_t e = 0; e < ne; e++) {
            if (lens[e] & 1) { cover--; continue; }
            cover++;
            int64_t at_w = lens[e] / 2;
            if (at_w >= 30 && cover > best) { best = cover; W = at_w; }
        }
        int64_t over = 0;
        for (int64_t i = 0; i < k; i++) over += !P[i].blank && P[i].len > W + 2;
        if (best < 3 || 4 * best < joined || over >= 2 * best) W = 0;
    }
    /* logical lines: a line broken by a hard wrap continues on the next one, and so does a line of at least
       SHAPE_CONT_CHARS characters that ends mid-sentence when the next starts with a lower-case letter or a
       digit (a wrap, however short the text); a line with a cue stands alone */
    int64_t nl = 0;
    for (int64_t i = 0; i < k;) {
        int64_t j = i;
        if (!P[i].blank) {
            while (j + 1 < k && !P[j + 1].blank && !P[j].cue && !P[j + 1].cue &&
                   ((W && P[j].len <= W + 2 && P[j].len + P[j + 1].fw >= W) || continues(t, &P[j], &P[j + 1])))
                j++;
        }
        L[nl].s = P[i].s; L[nl].e = P[j].e; L[nl].w0 = P[i].w0; L[nl].w1 = P[j].w1;
        L[nl].lab = L[nl].quoted = L[nl].terminal = 0;
        L[nl].kind = P[i].blank ? K_BLANK : P[i].cue ? K_STRONG : line_kind(t, st, en, &L[nl]);
        if (P[i].cue) L[nl].terminal = (uint8_t)ends_sentence(t, P[i].s, P[i].e);
        nl++;
        i = j + 1;
    }
    /* a signature: after a delimiter ("--", "-- " or a rule of - _ = * ~ #) come at most SHAPE_SIG_LINES lines
       and nothing else */
    for (int64_t i = 0; i < nl; i++) {
        if (L[i].kind == K_BLANK || L[i].w1 != L[i].w0 || !is_rule(t, L[i].s, L[i].e)) continue;
        int64_t rest = 0;
        for (int64_t j = i + 1; j < nl; j++) rest += L[j].kind != K_BLANK;
        if (rest <= SHAPE_SIG_LINES) {
            for (int64_t j = i; j < nl; j++) if (L[j].kind != K_BLANK) L[j].kind = K_STRONG;
            break;
        }
    }
    /* prose: a long line, a quoted line, or a sentence next to another sentence */
    int64_t first = -1, last = -1, good = 0, prev = -1;
    for (int64_t i = 0; i < nl; i++) {
        L[i].good = 0;
        if (L[i].kind == K_BLANK) continue;
        if (first < 0) first = i;
        last = i;
        if (L[i].kind == K_CONTENT && (L[i].w1 - L[i].w0 >= SHAPE_GOOD_WORDS || L[i].quoted)) L[i].good = 1;
        if (prev >= 0 && L[i].kind == K_CONTENT && L[prev].kind == K_CONTENT && L[i].terminal && L[prev].terminal)
            L[i].good = L[prev].good = 1;
        prev = i;
    }
    for (int64_t i = 0; i < nl; i++) good += L[i].good;
    /* blocks: runs of lines that are not prose (blank lines do not break them) */
    for (int64_t i = first; i >= 0 && i <= last;) {
        if (L[i].kind == K_BLANK || L[i].good) { i++; continue; }
        int64_t j = i, lines = 0, bad = 0, end = i;
        for (; j <= last; j++) {
            uint8_t kd = L[j].kind;
            if (kd == K_BLANK) continue;
            if (L[j].good) break;
            lines++;
            bad += kd == K_SHORT || kd == K_STRONG;
            end = j;
        }
        int at_start = good && i == first, at_end = good && end == last;  /* edges of a text with prose */
        if ((lines >= 3 && 2 * bad >= lines) || ((at_start || at_end) && bad >= 1)) {
            int64_t lo = i, hi = end;  /* short sentences next to prose stay prose */
            if (!at_start) while (lo <= hi && (L[lo].kind == K_CONTENT || L[lo].kind == K_BLANK)) lo++;
            if (!at_end) while (hi >= lo && (L[hi].kind == K_CONTENT || L[hi].kind == K_BLANK)) hi--;
            for (int64_t x = lo; x <= hi; x++) if (L[x].kind != K_BLANK) L[x].lab = 1;
        } else {
            for (int64_t x = i; x <= end; x++) if (L[x].kind == K_STRONG) L[x].lab = 1;
        }
        i = j;
    }
    /* the end zone: from the text's end back over template-shaped lines and short sentences (a footer's prose:
       newsletter pitch, republication notice; a signature's quotation); its other lines are label 2 */
    if (good) {
        int64_t lo = -1, x = last;
        for (; x >= first; x--) {
            if (L[x].kind == K_BLANK) continue;
            if (!L[x].lab && (L[x].quoted || L[x].w1 - L[x].w0 >= SHAPE_EDGE_PROSE)) break;
            lo = x;
        }
        for (int64_t y = lo; y >= 0 && y <= last; y++) if (L[y].kind != K_BLANK && !L[y].lab) L[y].lab = 2;
        /* the paragraph that ends the end zone, if not too long, is the text's tail (label 3): a signature's
           quotation, a closing notice */
        if (x >= first && !L[x].lab && !L[x].quoted && L[x].w1 - L[x].w0 <= SHAPE_TAIL_WORDS) L[x].lab = 3;
    }
#ifdef SHAPE_DEBUG
    fprintf(stderr, "W=%lld good=%lld first=%lld last=%lld\n", (long long)W, (long long)good, (long long)first, (long long)last);
    for (int64_t i = 0; i < nl; i++)
        fprintf(stderr, "L%lld kind=%d good=%d lab=%d q=%d t=%d w=%lld-%lld s=%lld e=%lld\n", (long long)i, L[i].kind, L[i].good, L[i].lab,
                L[i].quoted, L[i].terminal, (long long)L[i].w0, (long long)L[i].w1, (long long)L[i].s, (long long)L[i].e);
#endif
    for (int64_t i = 0; i < nl; i++)
        if (L[i].lab) memset(lab + L[i].w0, L[i].lab, (size_t)(L[i].w1 - L[i].w0));
    free(P); free(L); free(lens);
    return 0;
}

/* Shape flag of each fingerprint: 1 when most of its shingle's words are template-shaped, else 2 when most
   are template-shaped or in the end zone, else 3 when most are in those or the tail, else 0. */
static void fp_shape_flags(const uint8_t *lab, int64_t nw, const uint32_t *pos, size_t c, size_t n, uint8_t *out) {
    for (size_t q = 0; q < c; q++) {
        int64_t p = pos[q], e = p + (int64_t)n < nw ? p + (int64_t)n : nw, strong = 0, zone = 0, any = 0;
        for (int64_t x = p; x < e; x++) { strong += lab[x] == 1; zone += lab[x] == 1 || lab[x] == 2; any += lab[x] != 0; }
        out[q] = e <= p ? 0 : 2 * strong >= e - p ? 1 : 2 * zone >= e - p ? 2 : 2 * any >= e - p ? 3 : 0;
    }
}

/* ------------------------------------------------------------------------------------------ Python API */

static int load_text(PyObject *o, Text *t) {
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "expected str, got %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    if (PyUnicode_READY(o) < 0) return -1;
    t->kind = PyUnicode_KIND(o);
    t->data = PyUnicode_DATA(o);
    t->n = PyUnicode_GET_LENGTH(o);
    return 0;
}

static PyObject *py_shape(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer sb, eb;
    if (!PyArg_ParseTuple(args, "Uy*y*", &text, &sb, &eb)) return NULL;
    PyObject *res = NULL;
    Text t;
    if (load_text(text, &t)) goto done;
    int64_t nw = sb.len / 8;
    res = PyBytes_FromStringAndSize(NULL, nw);
    if (!res) goto done;
    if (shape_words(&t, sb.buf, eb.buf, nw, (uint8_t *)PyBytes_AS_STRING(res)) < 0) { Py_CLEAR(res); PyErr_NoMemory(); }
done:
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    return res;
}

/* Figures: words holding a digit, joined with their neighbours when only one of . , / - : lies between them
   ("1.5", "6-3/8", "2,978", "14:30"). One uint64 per word: the FNV hash of its figure's characters as written
   (digits and joiners), 0 for a word in no figure. */
/* A name: a word written with a capital and then lower case ("Mitsui", "McDonalds", "London"), not the first word
 * of a sentence (after . ! ? and any closing quotes or brackets, at a paragraph's start or the text's). */
static int is_name(const Text *t, int64_t s, int64_t e) {
    if (s >= e || s >= t->n) return 0;
    Py_UCS4 c = at(t, s);
    if (!is_upper(c)) return 0;
    int lower = 0;
    for (int64_t i = s + 1; i < e && i < t->n && !lower; i++) lower = is_lower(at(t, i));
    if (!lower) return 0;
    int newlines = 0;
    int64_t i = s - 1;
    for (; i >= 0; i--) {
        Py_UCS4 p = at(t, i);
        if (p == '\n') { if (++newlines >= 2) return 0; continue; }
        if (Py_UNICODE_ISSPACE(p) || p == '"' || p == '\'' || p == 0x201C || p == 0x201D || p == 0x2018 ||
            p == 0x2019 || p == '(' || p == ')' || p == '[' || p == ']') continue;
        break;
    }
    if (i < 0) return 0;
    Py_UCS4 p = at(t, i);
    return !(p == '.' || p == '!' || p == '?');
}

static PyObject *py_figures(PyObject *self, PyObject *args) {
    PyObject *text, *hobj = Py_None, *fobj = Py_None;
    Py_buffer sb, eb, hb = {0}, fb = {0};
    int names = 0;
    if (!PyArg_ParseTuple(args, "Uy*y*|pOO", &text, &sb, &eb, &names, &hobj, &fobj)) return NULL;
    PyObject *res = NULL;
    const uint64_t *wh = NULL, *facts = NULL;  /* optional: word hashes and sorted fact-word hashes */
    int64_t nfacts = 0;
    uint64_t fact_bits = 0;  /* which top-6-bit values the fact words have: most words need no search */
    if (hobj != Py_None && fobj != Py_None) {
        if (PyObject_GetBuffer(hobj, &hb, PyBUF_SIMPLE) < 0) goto done;
        if (PyObject_GetBuffer(fobj, &fb, PyBUF_SIMPLE) < 0) goto done;
        wh = hb.buf;
        facts = fb.buf;
        nfacts = fb.len / 8;
        for (int64_t i = 0; i < nfacts; i++) fact_bits |= 1ULL << (facts[i] >> 58);
    }
    Text t;
    if (load_text(text, &t)) goto done;
    int64_t nw = sb.len / 8;
    if (wh && hb.len / 8 < nw) { PyErr_SetString(PyExc_ValueError, "fewer word hashes than words"); goto done; }
    const int64_t *st = sb.buf, *en = eb.buf;
    res = PyBytes_FromStringAndSize(NULL, nw * 8);
    if (!res) goto done;
    uint64_t *out = (uint64_t *)PyBytes_AS_STRING(res);
    memset(out, 0, (size_t)nw * 8);
    for (int64_t w = 0; w < nw;) {
        int digit = 0;
        for (int64_t i = st[w]; i < en[w] && i < t.n && !digit; i++) digit = at(&t, i) >= '0' && at(&t, i) <= '9';
        if (!digit) {
            if (names && is_name(&t, st[w], en[w])) {
                uint64_t h = FNV_INIT ^ 0x4E414D45ULL;  /* "NAME": apart from figures */
                for (int64_t i = st[w]; i < en[w] && i < t.n; i++) h = (h ^ at(&t, i)) * 0x100000001B3ULL;
                out[w] = mix64(h) | 1;
            } else if (wh && nfacts && (fact_bits >> (wh[w] >> 58) & 1)) {  /* a number, month or weekday in words */
                int64_t lo = 0, hi = nfacts;
                while (lo < hi) { int64_t mid = (lo + hi) / 2; if (facts[mid] < wh[w]) lo = mid + 1; else hi = mid; }
                if (lo < nfacts && facts[lo] == wh[w]) out[w] = wh[w];
            }
            w++;
            continue;
        }
        int64_t x = w;
        while (x + 1 < nw && st[x + 1] == en[x] + 1 && en[x] < t.n) {
            Py_UCS4 j = at(&t, en[x]);
            if (!(j == '.' || j == ',' || j == '/' || j == '-' || j == ':')) break;
            int next = 0;
            for (int64_t i = st[x + 1]; i < en[x + 1] && i < t.n && !next; i++) next = at(&t, i) >= '0' && at(&t, i) <= '9';
            if (!next) break;
            x++;
        }
        uint64_t h = FNV_INIT;
        for (int64_t i = st[w]; i < en[x] && i < t.n; i++) h = (h ^ at(&t, i)) * 0x100000001B3ULL;
        h = mix64(h) | 1;  /* never 0 */
        for (int64_t y = w; y <= x; y++) out[y] = h;
        w = x + 1;
    }
done:
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    if (hb.obj) PyBuffer_Release(&hb);
    if (fb.obj) PyBuffer_Release(&fb);
    return res;
}

static PyObject *py_tokenize(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    Text t;
    if (load_text(text, &t)) return NULL;
    Buf h = {0, 0, 0, 8}, s = {0, 0, 0, 8}, e = {0, 0, 0, 8}, skip = {0, 0, 0, 1};
    int flags = tokenize_text(&t, &h, &s, &e, &skip);
    PyObject *res = NULL;
    if (flags < 0) PyErr_NoMemory();
    else res = Py_BuildValue("(NNNi)", buf_bytes(&s), buf_bytes(&e), buf_bytes(&h), flags);
    buf_free(&h); buf_free(&s); buf_free(&e); buf_free(&skip);
    return res;
}

static PyObject *py_ngrams(PyObject *self, PyObject *args) {
    Py_buffer hb;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*n", &hb, &n)) return NULL;
    size_t t = (size_t)hb.len / 8;
    if (n < 1) { PyBuffer_Release(&hb); PyErr_SetString(PyExc_ValueError, "n must be >= 1"); return NULL; }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(t ? (t >= (size_t)n ? t - n + 1 : 1) : 0) * 8);
    if (out) ngrams((const uint64_t *)hb.buf, t, (size_t)n, (uint64_t *)PyBytes_AS_STRING(out));
    PyBuffer_Release(&hb);
    return out;
}

typedef struct {
    Buf shingles, pos, fph, fpp;
    uint32_t *sig;
    uint8_t *filled;
} Scratch;

/* From word hashes: signature (into sig, returns defined?), fingerprints appended to fph/fpp. */
static int prints_of(const uint64_t *h, size_t t, size_t n, size_t w, uint32_t k, uint64_t seed, Scratch *sc,
                     uint32_t *sig, uint32_t *fp_count) {
    sc->shingles.len = 0;
    if (buf_reserve(&sc->shingles, t + 1) || buf_reserve(&sc->pos, t + 1)) return -1;
    size_t m = ngrams(h, t, n, (uint64_t *)sc->shingles.p);
    int has = oph((const uint64_t *)sc->shingles.p, m, k, seed, sig, sc->filled);
    size_t c = 0;
    if (t >= n) {
        c = winnow((const uint64_t *)sc->shingles.p, m, w, (uint32_t *)sc->pos.p);
        if (buf_reserve(&sc->fph, c) || buf_reserve(&sc->fpp, c)) return -1;
        for (size_t i = 0; i < c; i++) {
            uint32_t p = ((uint32_t *)sc->pos.p)[i];
            BUF_PUSH(sc->fph, uint64_t, ((uint64_t *)sc->shingles.p)[p]);
            BUF_PUSH(sc->fpp, uint32_t, p);
        }
    }
    *fp_count = (uint32_t)c;
    return has;
}

static PyObject *py_prints_from_hashes(PyObject *self, PyObject *args) {
    Py_buffer hb;
    Py_ssize_t n, w;
    unsigned int k;
    unsigned long long seed;
    Py_buffer lb = {0};
    if (!PyArg_ParseTuple(args, "y*nnIK|y*", &hb, &n, &w, &k, &seed, &lb)) return NULL;
    if (n < 1 || w < 1 || k < 1 || (lb.len != 0 && lb.len != hb.len / 8)) {
        PyBuffer_Release(&hb); if (lb.obj) PyBuffer_Release(&lb);
        PyErr_SetString(PyExc_ValueError, "bad parameters"); return NULL;
    }
    Scratch sc = {{0, 0, 0, 8}, {0, 0, 0, 4}, {0, 0, 0, 8}, {0, 0, 0, 4}, NULL, NULL};
    sc.filled = malloc(k);
    PyObject *sig = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)k * 4), *res = NULL;
    uint32_t cnt = 0;
    if (!sc.filled || !sig) { PyErr_NoMemory(); goto done; }
    int has = prints_of((const uint64_t *)hb.buf, (size_t)hb.len / 8, (size_t)n, (size_t)w, k, seed, &sc,
                        (uint32_t *)PyBytes_AS_STRING(sig), &cnt);
    if (has < 0) { PyErr_NoMemory(); goto done; }
    PyObject *shp = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cnt);
    if (!shp) goto done;
    if (lb.len) fp_shape_flags(lb.buf, (int64_t)lb.len, (const uint32_t *)sc.fpp.p, cnt, (size_t)n,
                               (uint8_t *)PyBytes_AS_STRING(shp));
    else memset(PyBytes_AS_STRING(shp), 0, cnt);
    res = Py_BuildValue("(OiNNN)", sig, has, buf_bytes(&sc.fph), buf_bytes(&sc.fpp), shp);
done:
    Py_XDECREF(sig);
    free(sc.filled);
    buf_free(&sc.shingles); buf_free(&sc.pos); buf_free(&sc.fph); buf_free(&sc.fpp);
    PyBuffer_Release(&hb);
    if (lb.obj) PyBuffer_Release(&lb);
    return res;
}

static PyObject *py_fingerprint_batch(PyObject *self, PyObject *args) {
    PyObject *texts;
    Py_ssize_t n, w;
    unsigned int k;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OnnIK", &texts, &n, &w, &k, &seed)) return NULL;
    if (n < 1 || w < 1 || k < 1) { PyErr_SetString(PyExc_ValueError, "bad parameters"); return NULL; }
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t d = PySequence_Fast_GET_SIZE(seq);
    Text *tx = PyMem_Malloc(sizeof(Text) * (size_t)(d ? d : 1));
    if (!tx) { Py_DECREF(seq); return PyErr_NoMemory(); }
    for (Py_ssize_t i = 0; i < d; i++) {
        if (load_text(PySequence_Fast_GET_ITEM(seq, i), &tx[i])) { PyMem_Free(tx); Py_DECREF(seq); return NULL; }
    }
    PyObject *words = PyBytes_FromStringAndSize(NULL, d * 4), *flags = PyBytes_FromStringAndSize(NULL, d),
             *sigs = PyBytes_FromStringAndSize(NULL, d * (Py_ssize_t)k * 4), *has = PyBytes_FromStringAndSize(NULL, d),
             *counts = PyBytes_FromStringAndSize(NULL, d * 4), *res = NULL;
    Scratch sc = {{0, 0, 0, 8}, {0, 0, 0, 4}, {0, 0, 0, 8}, {0, 0, 0, 4}, NULL, NULL};
    Buf hashes = {0, 0, 0, 8}, skip = {0, 0, 0, 1}, starts = {0, 0, 0, 8}, ends = {0, 0, 0, 8}, labs = {0, 0, 0, 1},
        shp = {0, 0, 0, 1};
    int failed = 0;
    sc.filled = malloc(k);
    if (!words || !flags || !sigs || !has || !counts || !sc.filled) { PyErr_NoMemory(); goto done; }
    uint32_t *wp = (uint32_t *)PyBytes_AS_STRING(words), *sp = (uint32_t *)PyBytes_AS_STRING(sigs),
             *cp = (uint32_t *)PyBytes_AS_STRING(counts);
    uint8_t *fp = (uint8_t *)PyBytes_AS_STRING(flags), *hp = (uint8_t *)PyBytes_AS_STRING(has);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < d && !failed; i++) {
        hashes.len = starts.len = ends.len = 0;
        int f = tokenize_text(&tx[i], &hashes, &starts, &ends, &skip);
        if (f < 0) { failed = 1; break; }
        size_t before = sc.fpp.len;
        int hs = prints_of((const uint64_t *)hashes.p, hashes.len, (size_t)n, (size_t)w, k, seed, &sc,
                           sp + (size_t)i * k, &cp[i]);
        if (hs < 0) { failed = 1; break; }
        if (buf_reserve(&labs, hashes.len + 1) || buf_reserve(&shp, cp[i])) { failed = 1; break; }
        if (shape_words(&tx[i], starts.p, ends.p, (int64_t)hashes.len, labs.p) < 0) { failed = 1; break; }
        fp_shape_flags(labs.p, (int64_t)hashes.len, (const uint32_t *)sc.fpp.p + before, cp[i], (size_t)n,
                       (uint8_t *)shp.p + shp.len);
        shp.len += cp[i];
        wp[i] = (uint32_t)hashes.len;
        fp[i] = (uint8_t)f;
        hp[i] = (uint8_t)hs;
    }
    Py_END_ALLOW_THREADS
    if (failed) { PyErr_NoMemory(); goto done; }
    res = Py_BuildValue("(OOOOONNN)", words, flags, sigs, has, counts, buf_bytes(&sc.fph), buf_bytes(&sc.fpp),
                        buf_bytes(&shp));
done:
    Py_XDECREF(words); Py_XDECREF(flags); Py_XDECREF(sigs); Py_XDECREF(has); Py_XDECREF(counts);
    free(sc.filled);
    buf_free(&sc.shingles); buf_free(&sc.pos); buf_free(&sc.fph); buf_free(&sc.fpp);
    buf_free(&hashes); buf_free(&skip); buf_free(&starts); buf_free(&ends); buf_free(&labs); buf_free(&shp);
    PyMem_Free(tx);
    Py_DECREF(seq);
    return res;
}


/* ------------------------------------------------------------------------------------------ alignment */
/*
 * Passage alignment (see doublet/align.py for the description). Seeds are word n-grams (n = seed_size)
 * that touch no boilerplate word and occur at most MAX_REPEAT times in their document; matching seeds
 * are grouped into runs along diagonals (gaps of at most max_gap words), runs are chained across nearby
 * diagonals in reading order, and chains long and dense enough become passages, taken longest first and
 * cut back where they overlap a passage already taken.
 */
#define MAX_REPEAT 4

typedef struct { uint64_t h; int64_t pos; } Seed;
typedef struct { int64_t a0, a1, b0, b1, m; } Span;

static int cmp_span_pos(const void *x, const void *y) {
    const Span *a = x, *b = y;
    if (a->a0 != b->a0) return a->a0 < b->a0 ? -1 : 1;
    if (a->a1 != b->a1) return a->a1 < b->a1 ? -1 : 1;
    if (a->b0 != b->b0) return a->b0 < b->b0 ? -1 : 1;
    if (a->b1 != b->b1) return a->b1 < b->b1 ? -1 : 1;
    return (a->m > b->m) - (a->m < b->m);
}
static int cmp_span_best(const void *x, const void *y) {
    const Span *a = x, *b = y;
    if (a->m != b->m) return a->m > b->m ? -1 : 1;
    if (a->a0 != b->a0) return a->a0 < b->a0 ? -1 : 1;
    return (a->b0 > b->b0) - (a->b0 < b->b0);
}


/* LSD radix sorts (8 passes of 8 bits, passes where every key has the same byte skipped): a document's few
   hundred shingle or seed hashes, or a partition's million fingerprint rows, sort several times faster than
   with qsort's comparison callbacks. Stable (insertion sort below RADIX_SMALL elements, also stable), so
   records created in position order come out sorted by (key, position). One definition per record type:
   RADIX_SORT(name, T, KEY) defines `static int name(T *a, size_t m)`, sorting in place by the uint64
   KEY(element); -1 on memory error. */
#define RADIX_SMALL 48
#define RADIX_SORT(NAME, T, KEY)                                                                          \
    static int NAME(T *a, size_t m) {                                                                      \
        if (m < RADIX_SMALL) {                                                                             \
            for (size_t i = 1; i < m; i++) {                                                               \
                T v = a[i];                                                                                \
                size_t j = i;                                                                              \
                while (j > 0 && KEY(a[j - 1]) > KEY(v)) { a[j] = a[j - 1]; j--; }                          \
                a[j] = v;                                                                                  \
            }                                                                                              \
            return 0;                                                                                      \
        }                                                                                                  \
        T *tmp = malloc(m * sizeof(T));                                                                    \
        if (!tmp) return -1;                                                                               \
        size_t cnt[8][256];                                                                                \
        memset(cnt, 0, sizeof cnt);                                                                        \
        for (size_t i = 0; i < m; i++)                                                                     \
            for (int b = 0; b < 8; b++) cnt[b][(KEY(a[i]) >> (8 * b)) & 255]++;                            \
        T *src = a, *dst = tmp;                                                                            \
        for (int b = 0; b < 8; b++) {                                                                      \
            if (cnt[b][(KEY(src[0]) >> (8 * b)) & 255] == m) continue;                                     \
            size_t sum = 0;                                                                                \
            for (int d = 0; d < 256; d++) { size_t c = cnt[b][d]; cnt[b][d] = sum; sum += c; }             \
            for (size_t i = 0; i < m; i++) dst[cnt[b][(KEY(src[i]) >> (8 * b)) & 255]++] = src[i];         \
            T *t = src; src = dst; dst = t;                                                                \
        }                                                                                                  \
        if (src != a) memcpy(a, src, m * sizeof(T));                                                       \
        free(tmp);                                                                                         \
        return 0;                                                                                          \
    }
#define KEY_SELF(x) (x)
#define KEY_H(x) ((x).h)
#define KEY_KEY(x) ((x).key)
RADIX_SORT(radix_u64, uint64_t, KEY_SELF)
RADIX_SORT(radix_seed, Seed, KEY_H)

/* Valid seeds of one document, sorted by (hash, position). Returns the count, or -1 on memory error. */
static Py_ssize_t seeds_of(const uint64_t *h, size_t t, const uint8_t *mask, size_t s, Seed **out) {
    *out = NULL;
    if (t < s || t == 0) return 0;
    size_t m = t - s + 1;
    uint64_t *g = malloc(m * sizeof(uint64_t));
    int64_t *csum = malloc((t + 1) * sizeof(int64_t));
    Seed *sd = malloc(m * sizeof(Seed));
    if (!g || !csum || !sd) { free(g); free(csum); free(sd); return -1; }
    ngrams(h, t, s, g);
    csum[0] = 0;
    for (size_t i = 0; i < t; i++) csum[i + 1] = csum[i] + (mask ? mask[i] != 0 : 0);
    for (size_t i = 0; i < m; i++) { sd[i].h = g[i]; sd[i].pos = (int64_t)i; }
    if (radix_seed(sd, m) < 0) { free(g); free(csum); free(sd); return -1; }
    /* keep seeds that occur at most MAX_REPEAT times in the text (lists, tables and refrains repeat)
       and touch no boilerplate word */
    size_t w = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && sd[j].h == sd[i].h) j++;
        if (j - i <= MAX_REPEAT)
            for (size_t k = i; k < j; k++)
                if (csum[sd[k].pos + (int64_t)s] - csum[sd[k].pos] == 0) sd[w++] = sd[k];
        i = j;
    }
    free(g);
    free(csum);
    *out = sd;
    return (Py_ssize_t)w;
}

static PyObject *py_seeds(PyObject *self, PyObject *args) {
    Py_buffer hb, mb;
    Py_ssize_t seed_size;
    if (!PyArg_ParseTuple(args, "y*y*n", &hb, &mb, &seed_size)) return NULL;
    PyObject *res = NULL;
    size_t t = (size_t)hb.len / 8;
    Seed *sd = NULL;
    if (seed_size < 1 || (mb.len && (size_t)mb.len != t)) {
        PyErr_SetString(PyExc_ValueError, "bad seed arguments");
    } else {
        Py_ssize_t n = seeds_of((const uint64_t *)hb.buf, t, mb.len ? (const uint8_t *)mb.buf : NULL, (size_t)seed_size, &sd);
        if (n < 0) PyErr_NoMemory();
        else res = PyBytes_FromStringAndSize((const char *)sd, n * (Py_ssize_t)sizeof(Seed));
    }
    free(sd);
    PyBuffer_Release(&hb);
    PyBuffer_Release(&mb);
    return res;
}

static PyObject *py_align(PyObject *self, PyObject *args) {
    Py_buffer sab, sbb, ma, mb;
    Py_ssize_t seed_size, max_gap, min_words;
    double min_identity;
    if (!PyArg_ParseTuple(args, "y*y*y*y*nnnd", &sab, &sbb, &ma, &mb, &seed_size, &max_gap, &min_words, &min_identity))
        return NULL;
    PyObject *res = NULL;
    size_t ta = (size_t)ma.len, tb = (size_t)mb.len;
    const uint8_t *mka = (const uint8_t *)ma.buf, *mkb = (const uint8_t *)mb.buf;
    const Seed *sa = (const Seed *)sab.buf, *sb = (const Seed *)sbb.buf;
    Py_ssize_t na = sab.len / (Py_ssize_t)sizeof(Seed), nb = sbb.len / (Py_ssize_t)sizeof(Seed);
    uint64_t *keys = NULL;
    Span *runs = NULL, *chains = NULL, *good = NULL;
    size_t *active = NULL;
    int64_t *ca = NULL, *cb = NULL;
    size_t nkeys = 0, cap = 0, nruns = 0, nchains = 0, ngood = 0;
    const int64_t s = seed_size, gap = max_gap;
    if (seed_size < 1) {
        PyErr_SetString(PyExc_ValueError, "bad alignment arguments");
        goto done;
    }
    /* matches, keyed by (diagonal, i) so that one sort groups them into diagonal runs */
    const int64_t off = (int64_t)ta + 1;
    for (Py_ssize_t i = 0, j = 0; i < na && j < nb;) {
        if (sa[i].h < sb[j].h) { i++; continue; }
        if (sa[i].h > sb[j].h) { j++; continue; }
        Py_ssize_t i2 = i, j2 = j;
        while (i2 < na && sa[i2].h == sa[i].h) i2++;
        while (j2 < nb && sb[j2].h == sb[j].h) j2++;
        for (Py_ssize_t x = i; x < i2; x++)
            for (Py_ssize_t y = j; y < j2; y++) {
                if (nkeys == cap) {
                    cap = cap ? 2 * cap : 256;
                    uint64_t *q = realloc(keys, cap * sizeof(uint64_t));
                    if (!q) { PyErr_NoMemory(); goto done; }
                    keys = q;
                }
                keys[nkeys++] = ((uint64_t)(sb[y].pos - sa[x].pos + off) << 32) | (uint64_t)sa[x].pos;
            }
        i = i2;
        j = j2;
    }
    if (nkeys == 0) { res = PyBytes_FromStringAndSize(NULL, 0); goto done; }
    if (radix_u64(keys, nkeys) < 0) { PyErr_NoMemory(); goto done; }
    runs = malloc(nkeys * sizeof(Span));
    if (!runs) { PyErr_NoMemory(); goto done; }
    for (size_t k = 0; k < nkeys;) {
        int64_t d = (int64_t)(keys[k] >> 32) - off, i0 = (int64_t)(keys[k] & 0xFFFFFFFFu), last = i0, m = 0;
        size_t q = k + 1;
        while (q < nkeys && (int64_t)(keys[q] >> 32) - off == d && (int64_t)(keys[q] & 0xFFFFFFFFu) - last <= s + gap) {
            int64_t i = (int64_t)(keys[q] & 0xFFFFFFFFu);
            m += (i - last < s) ? i - last : s;
            last = i;
            q++;
        }
        m += s;
        runs[nruns++] = (Span){i0, last + s, i0 + d, last + s + d, m};
        k = q;
    }
    qsort(runs, nruns, sizeof(Span), cmp_span_pos);
    /* chain runs across diagonals */
    ca = malloc((ta + 1) * sizeof(int64_t));
    cb = malloc((tb + 1) * sizeof(int64_t));
    chains = malloc(nruns * sizeof(Span));
    active = malloc(nruns * sizeof(size_t));
    if (!ca || !cb || !chains || !active) { PyErr_NoMemory(); goto done; }
    ca[0] = cb[0] = 0;
    for (size_t i = 0; i < ta; i++) ca[i + 1] = ca[i] + (mka[i] != 0);
    for (size_t i = 0; i < tb; i++) cb[i + 1] = cb[i] + (mkb[i] != 0);
    size_t nactive = 0;
    for (size_t r = 0; r < nruns; r++) {
        Span g = runs[r];
        size_t keep = 0;
        for (size_t k = 0; k < nactive; k++)
            if (!(chains[active[k]].a1 < g.a0 - gap)) active[keep++] = active[k];
        nactive = keep;
        Py_ssize_t best = -1;
        int64_t best_cost = 0;
        for (size_t k = 0; k < nactive; k++) {
            Span *c = &chains[active[k]];
            int64_t gi = g.a0 - c->a1, gj = g.b0 - c->b1;
            if (gi > gap || gj > gap || gi < -s || gj < -s) continue;
            if (g.a1 <= c->a1 || g.b1 <= c->b1) continue;
            if (gi > 0 && ca[g.a0] - ca[c->a1] > 0) continue;
            if (gj > 0 && cb[g.b0] - cb[c->b1] > 0) continue;
            int64_t cost = (gi > 0 ? gi : 0) + (gj > 0 ? gj : 0) + (gi > gj ? gi - gj : gj - gi);
            if (best < 0 || cost < best_cost) { best = (Py_ssize_t)active[k]; best_cost = cost; }
        }
        if (best < 0) {
            chains[nchains] = g;
            active[nactive++] = nchains++;
        } else {
            Span *c = &chains[best];
            int64_t over = c->a1 - g.a0;
            c->m += g.m - (over > 0 ? over : 0);
            if (g.a1 > c->a1) c->a1 = g.a1;
            if (g.b1 > c->b1) c->b1 = g.b1;
        }
    }
    /* passages: long and dense enough, longest first, cut back where they overlap one taken */
    good = malloc((nchains ? nchains : 1) * sizeof(Span));
    if (!good) { PyErr_NoMemory(); goto done; }
    for (size_t k = 0; k < nchains; k++) {
        Span c = chains[k];
        int64_t la = c.a1 - c.a0, lb = c.b1 - c.b0, lmax = la > lb ? la : lb, lmin = la < lb ? la : lb;
        if (lmin >= min_words && (double)c.m >= min_identity * (double)lmax) {
            if (c.m > lmin) c.m = lmin;
            good[ngood++] = c;
        }
    }
    qsort(good, ngood, sizeof(Span), cmp_span_best);
    size_t ntaken = 0;
    for (size_t k = 0; k < ngood; k++) {
        Span w = good[k];
        int dead = 0;
        for (size_t q = 0; q < ntaken && !dead; q++) {
            Span t = good[q];
            for (int side = 0; side < 2 && !dead; side++) {
                int64_t lo = side ? w.b0 : w.a0, hi = side ? w.b1 : w.a1;
                int64_t tlo = side ? t.b0 : t.a0, thi = side ? t.b1 : t.a1;
                if (hi <= tlo || lo >= thi) continue;
                if (lo >= tlo && hi <= thi) { dead = 1; break; }
                if (lo < tlo) { int64_t cut = hi - tlo; w.a1 -= cut; w.b1 -= cut; }
                else { int64_t cut = thi - lo; w.a0 += cut; w.b0 += cut; }
                if (w.a1 <= w.a0 || w.b1 <= w.b0) dead = 1;
            }
        }
        if (dead) continue;
        int64_t la = w.a1 - w.a0, lb = w.b1 - w.b0;
        if ((la < lb ? la : lb) < min_words) continue;
        if (w.m > la) w.m = la;
        if (w.m > lb) w.m = lb;
        good[ntaken++] = w;
    }
    qsort(good, ntaken, sizeof(Span), cmp_span_pos);
    res = PyBytes_FromStringAndSize((const char *)good, (Py_ssize_t)(ntaken * sizeof(Span)));
done:
    free(keys); free(runs); free(chains); free(active); free(good); free(ca); free(cb);
    PyBuffer_Release(&sab); PyBuffer_Release(&sbb); PyBuffer_Release(&ma); PyBuffer_Release(&mb);
    return res;
}

/* ------------------------------------------------------------------------------------------ verification helpers */

/* Number of values shared by two sorted arrays of unique uint64 (a merge). */
static PyObject *py_shared(PyObject *self, PyObject *args) {
    Py_buffer ab, bb;
    if (!PyArg_ParseTuple(args, "y*y*", &ab, &bb)) return NULL;
    const uint64_t *a = ab.buf, *b = bb.buf;
    size_t na = (size_t)ab.len / 8, nb = (size_t)bb.len / 8, i = 0, j = 0, c = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) i++;
        else if (a[i] > b[j]) j++;
        else { c++; i++; j++; }
    }
    PyBuffer_Release(&ab);
    PyBuffer_Release(&bb);
    return PyLong_FromSize_t(c);
}

/* Is there a line break between raw offsets [from, to)? */
static int has_newline(const Text *t, int64_t from, int64_t to) {
    for (int64_t i = from; i < to; i++) if (at(t, i) == '\n') return 1;
    return 0;
}

/* Boilerplate mask of a document's words (see doublet.fingerprints.boilerplate_mask for the rules). */
static PyObject *py_mask(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_buffer sb, eb, pb;
    Py_ssize_t k, w;
    if (!PyArg_ParseTuple(args, "Uy*y*y*nn", &text, &sb, &eb, &pb, &k, &w)) return NULL;
    PyObject *res = NULL;
    Text t;
    if (load_text(text, &t)) goto done;
    const int64_t *st = sb.buf, *en = eb.buf;
    const uint32_t *pos = pb.buf;
    int64_t n = sb.len / 8, np_ = pb.len / 4;
    res = PyBytes_FromStringAndSize(NULL, n);
    if (!res || n == 0) goto done;
    uint8_t *m = (uint8_t *)PyBytes_AS_STRING(res);
    memset(m, 0, (size_t)n);
    for (int64_t q = 0; q < np_; q++) {
        int64_t p = pos[q], end = p + k < n ? p + k : n;
        for (int64_t x = p; x < end; x++) m[x] = 1;
        if (q + 1 < np_ && (int64_t)pos[q + 1] - p <= w)
            for (int64_t x = p; x < (int64_t)pos[q + 1] && x < n; x++) m[x] = 1;
    }
    /* widen each run (as found before widening) to the nearest line break within window + k - 1 words */
    int64_t margin = w + k - 1, nruns = 0;
    int64_t *runs = malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!runs) { Py_CLEAR(res); PyErr_NoMemory(); goto done; }
    for (int64_t x = 0; x < n;) {
        if (!m[x]) { x++; continue; }
        int64_t e0 = x;
        while (e0 < n && m[e0]) e0++;
        runs[nruns++] = x;
        runs[nruns++] = e0;
        x = e0;
    }
    for (int64_t r = 0; r < nruns; r += 2) {
        int64_t s0 = runs[r], e0 = runs[r + 1];
        for (int64_t L = s0; L >= 0 && s0 - L <= margin; L--) {
            if (L == 0 || has_newline(&t, en[L - 1], st[L])) {
                for (int64_t x = L; x < s0; x++) m[x] = 1;
                break;
            }
        }
        for (int64_t L = e0; L <= n && L - e0 <= margin; L++) {
            if (L == n || has_newline(&t, en[L - 1], st[L])) {
                for (int64_t x = e0; x < L; x++) m[x] = 1;
                break;
            }
        }
    }
    free(runs);
done:
    PyBuffer_Release(&sb);
    PyBuffer_Release(&eb);
    PyBuffer_Release(&pb);
    return res;
}

/* What verification needs from a document's word hashes, in one pass over its shingles: the shingle set
   (sorted, unique) and the winnowed fingerprints (hashes and positions). */
static PyObject *py_doc_view(PyObject *self, PyObject *args) {
    Py_buffer hb;
    Py_ssize_t n, win;
    if (!PyArg_ParseTuple(args, "y*nn", &hb, &n, &win)) return NULL;
    size_t t = (size_t)hb.len / 8;
    PyObject *res = NULL;
    uint64_t *g = NULL, *fph = NULL;
    uint32_t *pos = NULL;
    if (n < 1 || win < 1) { PyErr_SetString(PyExc_ValueError, "n and window must be >= 1"); goto done; }
    g = malloc((t ? t : 1) * sizeof(uint64_t));
    pos = malloc((t ? t : 1) * sizeof(uint32_t));
    fph = malloc((t ? t : 1) * sizeof(uint64_t));
    if (!g || !pos || !fph) { PyErr_NoMemory(); goto done; }
    size_t m = ngrams((const uint64_t *)hb.buf, t, (size_t)n, g);
    size_t c = t >= (size_t)n ? winnow(g, m, (size_t)win, pos) : 0;
    for (size_t i = 0; i < c; i++) fph[i] = g[pos[i]];
    if (radix_u64(g, m) < 0) { PyErr_NoMemory(); goto done; }
    size_t w = 0;
    for (size_t i = 0; i < m; i++) if (w == 0 || g[w - 1] != g[i]) g[w++] = g[i];
    res = Py_BuildValue("(NNN)", PyBytes_FromStringAndSize((const char *)g, (Py_ssize_t)(w * 8)),
                        PyBytes_FromStringAndSize((const char *)fph, (Py_ssize_t)(c * 8)),
                        PyBytes_FromStringAndSize((const char *)pos, (Py_ssize_t)(c * 4)));
done:
    free(g); free(pos); free(fph);
    PyBuffer_Release(&hb);
    return res;
}

/* ------------------------------------------------------------------------------------------ passage edges */

/* One text's side of a pair for passage conversion: its words (raw offsets, hashes) and boilerplate mask. */
typedef struct {
    const Text *t;
    const int64_t *st, *en;
    const uint64_t *h;
    const uint8_t *mask; /* NULL: nothing masked */
    int64_t nw;
} Side;

/* Abbreviations whose closing dot is not a sentence end before a lower-case word or a figure ("Inc. said",
   "Jan. 5"; dotted initials such as "U.S." too, see is_stop_sep). Lower case ASCII. */
static const char *const ABBREVIATIONS[] = {
    "inc", "corp", "co", "ltd", "bhd", "cos", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "mr", "mrs", "ms", "dr", "st", "no", "nos", "vs", "gov", "sen", "rep", "gen", "col",
    "lt", "sgt", "jr", "sr", "dept", "approx", "fig", "vol", NULL};
/* Capitalised words that usually open a sentence: after dotted initials ("U.S.") only these make the dot a
   sentence end ("… in the U.S. The ministry said"; but "U.S. Agriculture Secretary", "E.H. Clark"). */
static const char *const OPENERS[] = {
    "the", "a", "an", "in", "it", "its", "he", "she", "they", "we", "i", "you", "this", "that", "these", "those",
    "there", "his", "her", "their", "our", "but", "and", "or", "so", "yet", "on", "at", "for", "as", "by", "after",
    "before", "if", "when", "while", "however", "also", "some", "one", "under", "with", "from", "to", "since",
    "meanwhile", "other", "no", "not", "all", "both", "each", "many", "most", NULL};
/* Top-level domains that make a dotted word chain a host name ("reuters.com", "news.bbc.co.uk"), written in
   lower case after the dot (a glued sentence, "picture.In this", has a capital). Not the ones that are common
   English words ("in", "it", "us", "me"). */
static const char *const TLDS[] = {
    "com", "net", "org", "gov", "edu", "mil", "info", "biz", "io", "co", "uk", "de", "fr", "ru", "jp", "cn",
    "au", "ca", "eu", "es", "nl", "ch", "se", "br", NULL};

/* 1 when t[s:e) is one of the lower-case ASCII words in list (ignoring ASCII case when fold). */
static int word_in(const Text *t, int64_t s, int64_t e, const char *const *list, int fold) {
    for (const char *const *w = list; *w; w++) {
        int64_t n = (int64_t)strlen(*w), i = 0;
        if (e - s != n) continue;
        for (; i < n; i++) {
            Py_UCS4 c = at(t, s + i);
            if (fold && c >= 'A' && c <= 'Z') c += 32;
            if (c != (Py_UCS4)(unsigned char)(*w)[i]) break;
        }
        if (i == n) return 1;
    }
    return 0;
}

/* 1 when word k is a short (1-2 letter) word of letters only: a part of dotted initials. */
static int initial_part(const Side *s, int64_t k) {
    if (s->en[k] - s->st[k] > 2) return 0;
    for (int64_t i = s->st[k]; i < s->en[k]; i++)
        if (!Py_UNICODE_ISALPHA(at(s->t, i))) return 0;
    return 1;
}

/* 1 when the gap between words k and k + 1 lies inside one compound token, so no passage may start or end
   there: a number ("29.1", "1,250", "3/4", "9-13/16", "14:30": digits on both sides of one of . , / : -),
   dotted initials ("U.S.", "a.m.", "Ph.D.": 1-2 letter parts joined by single dots, the second followed by a
   dot) or a host name ("reuters.com", "news.bbc.co.uk": ASCII words joined by single dots or hyphens, the
   last a listed top-level domain in lower case after a dot). URLs with a scheme, www. or a path and e-mail
   addresses hold no words at all (the tokenizer skips them). */
static int inner_gap(const Side *s, int64_t k) {
    if (k < 0 || k + 1 >= s->nw) return 0;
    int64_t g = s->en[k];
    if (s->st[k + 1] != g + 1) return 0;
    Py_UCS4 c = at(s->t, g), l = at(s->t, g - 1), r = at(s->t, g + 1);
    if ((c == '.' || c == ',' || c == '/' || c == ':' || c == '-') && Py_UNICODE_ISDIGIT(l) && Py_UNICODE_ISDIGIT(r))
        return 1;
    if (c == '.' && initial_part(s, k) && initial_part(s, k + 1) && s->en[k + 1] < s->t->n &&
        at(s->t, s->en[k + 1]) == '.')
        return 1;
    if ((c == '.' || c == '-') && ascii_alnum(l) && ascii_alnum(r)) {
        int64_t j = k + 1;
        Py_UCS4 last = c;
        while (j + 1 < s->nw && j - k < 16 && s->st[j + 1] == s->en[j] + 1) {
            Py_UCS4 d = at(s->t, s->en[j]);
            if (!(d == '.' || d == '-') || !ascii_alnum(at(s->t, s->en[j] - 1)) || !ascii_alnum(at(s->t, s->st[j + 1])))
                break;
            last = d;
            j++;
        }
        if (last == '.' && word_in(s->t, s->st[j], s->en[j], TLDS, 0)) return 1;
    }
    return 0;
}

/* First and one-past-last word of the compound token holding word k (k alone when it is in none). */
static int64_t compound_start(const Side *s, int64_t k) {
    while (k > 0 && inner_gap(s, k - 1)) k--;
    return k;
}
static int64_t compound_end(const Side *s, int64_t k) {
    while (inner_gap(s, k)) k++;
    return k + 1;
}

/* 1 when word k is the last part of dotted initials ("U.S.", "E.H."). */
static int initials_end(const Side *s, int64_t k) {
    return k > 0 && initial_part(s, k) && inner_gap(s, k - 1);
}

/* 1 when the gap after word k ends a sentence (. ! ? or a line break). A dot inside a compound token does not;
   nor does an abbreviation's dot followed on the same line by a lower-case word or a figure ("U.S. officials",
   "Inc. said", "Jan. 5"), nor the dot of dotted initials followed by a capitalised word that seldom opens a
   sentence ("U.S. Agriculture", "E.H. Clark"; but "U.S. The" ends one). */
static int is_stop_sep(const Side *s, int64_t k) {
    if (inner_gap(s, k)) return 0;
    int stop = 0, dot_only = 1;
    for (int64_t i = s->en[k]; i < s->st[k + 1]; i++) {
        Py_UCS4 c = at(s->t, i);
        if (c == '\n') return 1;
        if (c == '.' || c == '!' || c == '?') stop = 1;
        if (!(c == ' ' || c == '\t' || (c == '.' && i == s->en[k]))) dot_only = 0;
    }
    if (!stop) return 0;
    if (dot_only) {
        Py_UCS4 n = at(s->t, s->st[k + 1]);
        int initials = initials_end(s, k);
        if ((initials || word_in(s->t, s->st[k], s->en[k], ABBREVIATIONS, 1)) &&
            (Py_UNICODE_ISLOWER(n) || Py_UNICODE_ISDIGIT(n)))
            return 0;
        if (initials && Py_UNICODE_ISUPPER(n) && !word_in(s->t, s->st[k + 1], s->en[k + 1], OPENERS, 1)) return 0;
    }
    return 1;
}

/* 1 when a sentence or clause ends after word k: the text ends, or the gap is a sentence end or holds , ; : */
static int clause_end(const Side *s, int64_t k) {
    if (k + 1 >= s->nw) return 1;
    if (is_stop_sep(s, k)) return 1;
    if (inner_gap(s, k)) return 0;
    for (int64_t i = s->en[k]; i < s->st[k + 1]; i++) {
        Py_UCS4 c = at(s->t, i);
        if (c == ',' || c == ';' || c == ':') return 1;
    }
    return 0;
}

/* 1 when the gap after word i in a and the gap after word j in b read the same: both inside a compound token
   with the same joining character, or both between tokens. */
static int same_gap(const Side *a, int64_t i, const Side *b, int64_t j) {
    int ia = inner_gap(a, i), ib = inner_gap(b, j);
    if (ia != ib) return 0;
    return !ia || at(a->t, a->en[i]) == at(b->t, b->en[j]);
}

/* Passages in word indices as conversion goes: cur[4 r .. 4 r + 3] = a0, a1, b0, b1 (a0 == a1: dropped). */
typedef struct {
    int64_t *cur;
    Py_ssize_t n;
} Taken;

/* 1 when no passage but r holds a word of [a0, a1) in a or of [b0, b1) in b. */
static int is_free(const Taken *tk, Py_ssize_t r, int64_t a0, int64_t a1, int64_t b0, int64_t b1) {
    for (Py_ssize_t q = 0; q < tk->n; q++) {
        const int64_t *c = tk->cur + 4 * q;
        if (q == r || c[0] >= c[1]) continue;
        if ((a0 < c[1] && c[0] < a1) || (b0 < c[3] && c[2] < b1)) return 0;
    }
    return 1;
}

/* 1 when passage r may take the n words a[x, x + n) and b[y, y + n) beside it: they exist, have equal
   normalized words, no boilerplate, belong to no other passage, and the gaps between them and towards the
   passage (the one before word x when forward, else the one after word x + n - 1) read the same. */
static int may_take(const Side *a, const Side *b, const Taken *tk, Py_ssize_t r, int64_t x, int64_t y, int64_t n,
                    int forward) {
    if (n <= 0 || x < 0 || y < 0 || x + n > a->nw || y + n > b->nw) return 0;
    for (int64_t i = 0; i < n; i++) {
        if (a->h[x + i] != b->h[y + i]) return 0;
        if ((a->mask && a->mask[x + i]) || (b->mask && b->mask[y + i])) return 0;
    }
    for (int64_t i = forward ? -1 : 0; i < (forward ? n - 1 : n); i++)
        if (!same_gap(a, x + i, b, y + i)) return 0;
    return is_free(tk, r, x, x + n, y, y + n);
}

#define CLAUSE_WORDS 8

/* Passage r's edges on token boundaries (see to_passages in align.py). Returns 0 when nothing is left. */
static int settle_edges(const Side *a, const Side *b, Taken *tk, Py_ssize_t r) {
    int64_t *c = tk->cur + 4 * r;
    int64_t a0 = c[0], a1 = c[1], b0 = c[2], b1 = c[3];
    /* start inside a compound token: take its words before the start when the other text has them too,
       else move past it */
    int64_t x = a0, y = b0;
    while (inner_gap(a, x - 1) || inner_gap(b, y - 1)) {
        int64_t n = 0;
        if (inner_gap(a, x - 1)) n = x - compound_start(a, x);
        if (inner_gap(b, y - 1) && y - compound_start(b, y) > n) n = y - compound_start(b, y);
        if (!may_take(a, b, tk, r, x - n, y - n, n, 0)) { x = -1; break; }
        x -= n; y -= n;
    }
    if (x < 0) {
        x = a0; y = b0;
        while (x < a1 && (inner_gap(a, x - 1) || inner_gap(b, y - 1))) {
            int64_t n = 0;
            if (inner_gap(a, x - 1)) n = compound_end(a, x) - x;
            if (inner_gap(b, y - 1) && compound_end(b, y) - y > n) n = compound_end(b, y) - y;
            x += n; y += n;
        }
        if (x >= a1 || y >= b1) { c[0] = c[1] = a0; c[2] = c[3] = b0; return 0; }
    }
    a0 = x; b0 = y;
    c[0] = a0; c[2] = b0;
    /* end inside a compound token: the same, forwards */
    x = a1; y = b1;
    while (inner_gap(a, x - 1) || inner_gap(b, y - 1)) {
        int64_t n = 0;
        if (inner_gap(a, x - 1)) n = compound_end(a, x - 1) - x;
        if (inner_gap(b, y - 1) && compound_end(b, y - 1) - y > n) n = compound_end(b, y - 1) - y;
        if (!may_take(a, b, tk, r, x, y, n, 1)) { x = -1; break; }
        x += n; y += n;
    }
    if (x < 0) {
        x = a1; y = b1;
        while (x > a0 && (inner_gap(a, x - 1) || inner_gap(b, y - 1))) {
            int64_t n = 0;
            if (inner_gap(a, x - 1)) n = x - compound_start(a, x - 1);
            if (inner_gap(b, y - 1) && y - compound_start(b, y - 1) > n) n = y - compound_start(b, y - 1);
            x -= n; y -= n;
        }
        if (x <= a0 || y <= b0) { c[0] = c[1] = a0; c[2] = c[3] = b0; return 0; }
    }
    a1 = x; b1 = y;
    c[1] = a1; c[3] = b1;
    /* an end inside a clause goes on to the clause's end when the words up to it are the same on both sides */
    if (!clause_end(a, a1 - 1) && !clause_end(b, b1 - 1)) {
        for (int64_t n = 1; n <= CLAUSE_WORDS && may_take(a, b, tk, r, a1, b1, n, 1); n++) {
            int ea = clause_end(a, a1 + n - 1), eb = clause_end(b, b1 + n - 1);
            if (ea != eb) break;
            if (ea) { c[1] = a1 + n; c[3] = b1 + n; break; }
        }
    }
    /* and a start inside a clause goes back to the clause's start, likewise */
    if (a0 > 0 && b0 > 0 && !clause_end(a, a0 - 1) && !clause_end(b, b0 - 1)) {
        for (int64_t n = 1; n <= CLAUSE_WORDS && may_take(a, b, tk, r, a0 - n, b0 - n, n, 0); n++) {
            int sa = a0 - n == 0 || clause_end(a, a0 - n - 1), sb = b0 - n == 0 || clause_end(b, b0 - n - 1);
            if (sa != sb) break;
            if (sa) { c[0] = a0 - n; c[2] = b0 - n; break; }
        }
    }
    return 1;
}

static int is_opener(Py_UCS4 c) { return c == '"' || c == '\'' || c == '(' || c == '[' || c == 0x201C || c == 0x2018 || c == 0xAB; }
static int is_closer(Py_UCS4 c) {
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '%' || c == ')' || c == ']' ||
           c == '}' || c == '"' || c == '\'' || c == 0x201D || c == 0x2019 || c == 0xBB || c == 0x2026;
}

/* Word spans -> character passages (see to_passages in align.py): edges cut off by a sentence end or line break
   with fewer than seed_size words are dropped, edges are settled on token boundaries (settle_edges), then each
   side is widened over an opening quote before it and up to three closing punctuation characters after it. */
static PyObject *py_passages(PyObject *self, PyObject *args) {
    PyObject *ta_o, *tb_o;
    Py_buffer sa, ea, ha, ma, sb, eb, hb, mb, spb;
    Py_ssize_t seed_size;
    if (!PyArg_ParseTuple(args, "Uy*y*y*y*Uy*y*y*y*y*n", &ta_o, &sa, &ea, &ha, &ma, &tb_o, &sb, &eb, &hb, &mb, &spb,
                          &seed_size))
        return NULL;
    PyObject *res = NULL;
    int64_t *cur = NULL;
    Text ta, tb;
    if (load_text(ta_o, &ta) || load_text(tb_o, &tb)) goto done;
    Side A = {&ta, sa.buf, ea.buf, ha.buf, ma.len ? ma.buf : NULL, sa.len / 8};
    Side B = {&tb, sb.buf, eb.buf, hb.buf, mb.len ? mb.buf : NULL, sb.len / 8};
    if (ha.len != sa.len || hb.len != sb.len || (ma.len && ma.len * 8 != sa.len) || (mb.len && mb.len * 8 != sb.len)) {
        PyErr_SetString(PyExc_ValueError, "passages: hashes and masks must have one entry per word");
        goto done;
    }
    const int64_t *sp = spb.buf;
    Py_ssize_t ns = spb.len / (5 * 8);
    cur = malloc((size_t)(ns ? ns : 1) * 4 * sizeof(int64_t));
    if (!cur) { PyErr_NoMemory(); goto done; }
    Taken tk = {cur, ns};
    for (Py_ssize_t r = 0; r < ns; r++) {
        int64_t a0 = sp[5 * r], a1 = sp[5 * r + 1], b0 = sp[5 * r + 2], b1 = sp[5 * r + 3];
        if (a0 < 0 || b0 < 0 || a1 > A.nw || b1 > B.nw || a0 >= a1 || b0 >= b1) {
            PyErr_SetString(PyExc_ValueError, "passages: span outside the texts' words");
            goto done;
        }
        for (int64_t k = 0; k < seed_size - 1; k++) {
            if (a0 + k + 1 < a1 && (is_stop_sep(&A, a0 + k) || is_stop_sep(&B, b0 + k))) {
                a0 += k + 1; b0 += k + 1;
                break;
            }
        }
        for (int64_t k = 0; k < seed_size - 1; k++) {
            if (a1 - k - 2 >= a0 && (is_stop_sep(&A, a1 - k - 2) || is_stop_sep(&B, b1 - k - 2))) {
                a1 -= k + 1; b1 -= k + 1;
                break;
            }
        }
        cur[4 * r] = a0; cur[4 * r + 1] = a1; cur[4 * r + 2] = b0; cur[4 * r + 3] = b1;
    }
    Py_ssize_t kept = 0;
    for (Py_ssize_t r = 0; r < ns; r++) kept += settle_edges(&A, &B, &tk, r);
    res = PyBytes_FromStringAndSize(NULL, kept * 5 * 8);
    if (!res) goto done;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(res);
    const Side *sd[2] = {&A, &B};
    for (Py_ssize_t r = 0; r < ns; r++) {
        const int64_t *c = cur + 4 * r;
        if (c[0] >= c[1]) continue;
        int64_t w0[2] = {c[0], c[2]}, w1[2] = {c[1], c[3]};
        for (int side = 0; side < 2; side++) {
            const Side *s = sd[side];
            int64_t lo = s->st[w0[side]], hi = s->en[w1[side] - 1];
            if (lo > 0 && is_opener(at(s->t, lo - 1))) lo--;
            int64_t limit = hi + 3 < s->t->n ? hi + 3 : s->t->n;
            while (hi < limit && is_closer(at(s->t, hi))) hi++;
            *out++ = lo; *out++ = hi;
        }
        *out++ = r;  /* the span it came from */
    }
done:
    free(cur);
    PyBuffer_Release(&sa); PyBuffer_Release(&ea); PyBuffer_Release(&ha); PyBuffer_Release(&ma);
    PyBuffer_Release(&sb); PyBuffer_Release(&eb); PyBuffer_Release(&hb); PyBuffer_Release(&mb);
    PyBuffer_Release(&spb);
    return res;
}


/* Candidate pairs from fingerprint pair occurrences (see doublet.candidates.supported_pairs): records
   (pair key, position in a, position in b) are grouped by pair key (grouped_occ); a pair is kept when it has at least
   min_shared records whose positions spread over at least min_span words (max - min + shingle_size) in a
   or in b -- counting, when drift >= 0, only records that share a band of diagonals (banded_support).
   Returns (kept pair keys as uint64 bytes, their counts as int64 bytes). */
typedef struct { uint64_t key; uint32_t a, b; } Occ;

RADIX_SORT(radix_occ, Occ, KEY_KEY)

/* Records (k[i], a[i], b[i]) grouped by k: records with equal keys adjacent, in their input order (stable);
   the groups come in no useful order. NULL on memory error (the caller frees the result). Grouping is what
   postings and pair support need, and is several times cheaper than sorting 64-bit keys: one pass scatters
   the records into 256 buckets by bits 40..47 of mix64(key) (fused with building them from the columns; spill
   partitions use its top 6 to 16 bits, so these still differ within a partition), then
   each bucket -- a cache-sized fraction -- is grouped through a small open-addressing table giving each key
   its group number in order of first appearance, and one stable counting pass. */
static Occ *grouped_occ(const uint64_t *k, const uint32_t *a, const uint32_t *b, size_t n) {
    Occ *rec = malloc((n ? n : 1) * sizeof(Occ));
    if (!rec) return NULL;
    if (n < RADIX_SMALL) {  /* sorted is grouped */
        for (size_t i = 0; i < n; i++) { rec[i].key = k[i]; rec[i].a = a[i]; rec[i].b = b[i]; }
        radix_occ(rec, n);  /* insertion sort below RADIX_SMALL: allocates nothing */
        return rec;
    }
    size_t start[257], fill[256];
    memset(start, 0, sizeof start);
    for (size_t i = 0; i < n; i++) start[((mix64(k[i]) >> 40) & 255) + 1]++;
    size_t biggest = 0;
    for (int d = 0; d < 256; d++) {
        if (start[d + 1] > biggest) biggest = start[d + 1];
        start[d + 1] += start[d];
    }
    memcpy(fill, start, sizeof fill);
    for (size_t i = 0; i < n; i++) {
        Occ *o = &rec[fill[(mix64(k[i]) >> 40) & 255]++];
        o->key = k[i]; o->a = a[i]; o->b = b[i];
    }
    size_t cap = 64;
    while (cap < 2 * biggest) cap <<= 1;
    uint64_t *tkey = malloc(cap * sizeof(uint64_t));
    uint32_t *tgid = malloc(cap * sizeof(uint32_t)), *gid = malloc(biggest * sizeof(uint32_t));
    size_t *cnt = malloc((biggest + 1) * sizeof(size_t));
    Occ *scratch = malloc(biggest * sizeof(Occ));
    if (!tkey || !tgid || !gid || !cnt || !scratch) {
        free(tkey); free(tgid); free(gid); free(cnt); free(scratch); free(rec);
        return NULL;
    }
    for (int d = 0; d < 256; d++) {
        size_t s0 = start[d], m = start[d + 1] - s0;
        if (m < 2) continue;
        Occ *r = rec + s0;
        size_t t = 64;
        while (t < 2 * m) t <<= 1;
        memset(tgid, 0xFF, t * sizeof(uint32_t));  /* UINT32_MAX = empty slot */
        uint32_t ng = 0;
        for (size_t i = 0; i < m; i++) {
            uint64_t key = r[i].key;
            size_t slot = (size_t)mix64(key) & (t - 1);  /* low bits: independent of the bucket byte */
            while (tgid[slot] != UINT32_MAX && tkey[slot] != key) slot = (slot + 1) & (t - 1);
            if (tgid[slot] == UINT32_MAX) { tkey[slot] = key; tgid[slot] = ng; cnt[ng] = 0; ng++; }
            gid[i] = tgid[slot];
            cnt[gid[i]]++;
        }
        if (ng == m) continue;  /* all keys distinct: already grouped */
        size_t sum = 0;
        for (uint32_t g = 0; g < ng; g++) { size_t c = cnt[g]; cnt[g] = sum; sum += c; }
        for (size_t i = 0; i < m; i++) scratch[cnt[gid[i]]++] = r[i];
        memcpy(r, scratch, m * sizeof(Occ));
    }
    free(tkey); free(tgid); free(gid); free(cnt); free(scratch);
    return rec;
}

/* Rows (hash u64, doc u32, pos u32) grouped by hash, stably (rows given in (doc, position) order come out with
   each hash's rows together, in (doc, position) order; hashes in no useful order). Returns the three columns
   as bytes. */
static PyObject *py_group_rows(PyObject *self, PyObject *args) {
    Py_buffer hb, db, pb;
    if (!PyArg_ParseTuple(args, "y*y*y*", &hb, &db, &pb)) return NULL;
    PyObject *res = NULL, *ho = NULL, *dout = NULL, *pout = NULL;
    size_t n = (size_t)hb.len / 8;
    Occ *srt = NULL;
    if ((size_t)db.len != 4 * n || (size_t)pb.len != 4 * n) {
        PyErr_SetString(PyExc_ValueError, "group_rows: hashes (uint64), docs and positions (uint32) must have the same length");
        goto done;
    }
    srt = grouped_occ(hb.buf, db.buf, pb.buf, n);
    if (!srt) { PyErr_NoMemory(); goto done; }
    /* the results are written straight into the bytes objects returned */
    ho = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 8));
    dout = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 4));
    pout = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * 4));
    if (!ho || !dout || !pout) goto done;
    uint64_t *hp = (uint64_t *)PyBytes_AS_STRING(ho);
    uint32_t *dp = (uint32_t *)PyBytes_AS_STRING(dout), *pp = (uint32_t *)PyBytes_AS_STRING(pout);
    for (size_t i = 0; i < n; i++) { hp[i] = srt[i].key; dp[i] = srt[i].a; pp[i] = srt[i].b; }
    res = Py_BuildValue("(OOO)", ho, dout, pout);
done:
    Py_XDECREF(ho); Py_XDECREF(dout); Py_XDECREF(pout);
    free(srt);
    PyBuffer_Release(&hb); PyBuffer_Release(&db); PyBuffer_Release(&pb);
    return res;
}

/* Whether the m occurrences r of one pair still support it when only occurrences sharing a band of diagonals
   count. The diagonal of an occurrence is pos_b - pos_a; a reused passage keeps it constant, and every insertion
   or deletion the alignment bridges (at most drift words) moves it by at most drift. Sorted by diagonal, the
   occurrences fall into bands where consecutive diagonals differ by at most drift; an occurrence alone in its
   band (a stock phrase two documents happen to share, at unrelated places) is dropped, and the rest must still
   number min_shared and spread over min_span words in a or in b. Scattered reuse (sentences reprinted in
   another order) keeps each sentence's fingerprints on its own band and is still supported. buf holds m
   entries. Returns 1, 0, or -1 on memory error. */
static int banded_support(const Occ *r, size_t m, Occ *buf, Py_ssize_t min_shared, Py_ssize_t min_span,
                          Py_ssize_t shingle, Py_ssize_t drift) {
    if (m < 2) return 0;  /* alone in its band */
    int64_t dmin = INT64_MAX, dmax = INT64_MIN;
    for (size_t i = 0; i < m; i++) {
        int64_t d = (int64_t)r[i].b - (int64_t)r[i].a;
        if (d < dmin) dmin = d;
        if (d > dmax) dmax = d;
    }
    if (dmax - dmin <= drift) return 1;  /* one band: the caller has checked count and spread */
    for (size_t i = 0; i < m; i++) {  /* key: the diagonal, shifted to be non-negative */
        buf[i].key = (uint64_t)((int64_t)r[i].b - (int64_t)r[i].a + ((int64_t)1 << 32));
        buf[i].a = r[i].a;
        buf[i].b = r[i].b;
    }
    if (radix_occ(buf, m) < 0) return -1;
    size_t count = 0;
    uint32_t amin = UINT32_MAX, amax = 0, bmin = UINT32_MAX, bmax = 0;
    for (size_t s = 0; s < m;) {
        size_t e = s + 1;
        while (e < m && buf[e].key - buf[e - 1].key <= (uint64_t)drift) e++;
        if (e - s >= 2) {
            count += e - s;
            for (size_t i = s; i < e; i++) {
                if (buf[i].a < amin) amin = buf[i].a;
                if (buf[i].a > amax) amax = buf[i].a;
                if (buf[i].b < bmin) bmin = buf[i].b;
                if (buf[i].b > bmax) bmax = buf[i].b;
            }
        }
        s = e;
    }
    return count > 0 && (Py_ssize_t)count >= min_shared &&  /* count > 0: the bounds below are set */
           ((Py_ssize_t)(amax - amin) + shingle >= min_span || (Py_ssize_t)(bmax - bmin) + shingle >= min_span);
}

static PyObject *py_supported(PyObject *self, PyObject *args) {
    Py_buffer kb, ab, bb;
    Py_ssize_t min_shared, min_span, shingle, drift;
    if (!PyArg_ParseTuple(args, "y*y*y*nnnn", &kb, &ab, &bb, &min_shared, &min_span, &shingle, &drift)) return NULL;
    PyObject *res = NULL;
    size_t n = (size_t)kb.len / 8, cap = 0;
    Occ *src = NULL, *buf = NULL;
    uint64_t *keys = NULL;
    int64_t *counts = NULL;
    if ((size_t)ab.len != 4 * n || (size_t)bb.len != 4 * n) {
        PyErr_SetString(PyExc_ValueError, "keys (uint64) and positions (uint32) must have the same length");
        goto done;
    }
    src = grouped_occ(kb.buf, ab.buf, bb.buf, n);
    if (!src) { PyErr_NoMemory(); goto done; }
    keys = malloc((n ? n : 1) * sizeof(uint64_t));
    counts = malloc((n ? n : 1) * sizeof(int64_t));
    if (!keys || !counts) { PyErr_NoMemory(); goto done; }
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint32_t amin = src[i].a, amax = src[i].a, bmin = src[i].b, bmax = src[i].b;
        while (j < n && src[j].key == src[i].key) {
            if (src[j].a < amin) amin = src[j].a;
            if (src[j].a > amax) amax = src[j].a;
            if (src[j].b < bmin) bmin = src[j].b;
            if (src[j].b > bmax) bmax = src[j].b;
            j++;
        }
        if ((Py_ssize_t)(j - i) >= min_shared &&
            ((Py_ssize_t)(amax - amin) + shingle >= min_span || (Py_ssize_t)(bmax - bmin) + shingle >= min_span)) {
            if (drift >= 0) {
                if (j - i > cap) {
                    free(buf);
                    cap = 2 * (j - i);
                    buf = malloc(cap * sizeof(Occ));
                    if (!buf) { PyErr_NoMemory(); goto done; }
                }
                int on = banded_support(src + i, j - i, buf, min_shared, min_span, shingle, drift);
                if (on < 0) { PyErr_NoMemory(); goto done; }
                if (!on) { i = j; continue; }
            }
            keys[w] = src[i].key;
            counts[w] = (int64_t)(j - i);
            w++;
        }
        i = j;
    }
    res = Py_BuildValue("(NN)", PyBytes_FromStringAndSize((const char *)keys, (Py_ssize_t)(w * 8)),
                        PyBytes_FromStringAndSize((const char *)counts, (Py_ssize_t)(w * 8)));
done:
    free(src); free(keys); free(counts); free(buf);
    PyBuffer_Release(&kb); PyBuffer_Release(&ab); PyBuffer_Release(&bb);
    return res;
}


/* Pair occurrences of shared fingerprints (see doublet.candidates.postings): for each run k of rows holding
   one fingerprint (rows starts[k] .. starts[k] + lengths[k] - 1, documents ascending), one record per pair of
   its rows: (docs[r] << 32 | docs[s], pos[r], pos[s]) for r < s. Returns (keys u64, pos_a u32, pos_b u32). */
static PyObject *py_run_pairs(PyObject *self, PyObject *args) {
    Py_buffer sb, lb, db, pb;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &sb, &lb, &db, &pb)) return NULL;
    PyObject *res = NULL;
    const int64_t *st = sb.buf, *ln = lb.buf, *d = db.buf;
    const uint32_t *p = pb.buf;
    size_t nr = (size_t)sb.len / 8, nrows = (size_t)db.len / 8, total = 0;
    uint64_t *keys = NULL;
    uint32_t *pa = NULL, *pbo = NULL;
    if ((size_t)lb.len != 8 * nr || (size_t)pb.len != 4 * nrows) {
        PyErr_SetString(PyExc_ValueError, "run_pairs: starts/lengths (int64) and docs (int64)/positions (uint32) disagree");
        goto done;
    }
    for (size_t k = 0; k < nr; k++) {
        if (ln[k] < 0 || st[k] < 0 || (size_t)(st[k] + ln[k]) > nrows) {
            PyErr_SetString(PyExc_ValueError, "run_pairs: run out of range");
            goto done;
        }
        total += (size_t)ln[k] * (size_t)(ln[k] > 0 ? ln[k] - 1 : 0) / 2;
    }
    keys = malloc((total ? total : 1) * 8);
    pa = malloc((total ? total : 1) * 4);
    pbo = malloc((total ? total : 1) * 4);
    if (!keys || !pa || !pbo) { PyErr_NoMemory(); goto done; }
    size_t w = 0;
    for (size_t k = 0; k < nr; k++) {
        int64_t a0 = st[k], a1 = st[k] + ln[k];
        for (int64_t r = a0; r < a1; r++)
            for (int64_t q = r + 1; q < a1; q++) {
                keys[w] = ((uint64_t)d[r] << 32) | (uint64_t)d[q];
                pa[w] = p[r];
                pbo[w] = p[q];
                w++;
            }
    }
    res = Py_BuildValue("(NNN)", PyBytes_FromStringAndSize((const char *)keys, (Py_ssize_t)(w * 8)),
                        PyBytes_FromStringAndSize((const char *)pa, (Py_ssize_t)(w * 4)),
                        PyBytes_FromStringAndSize((const char *)pbo, (Py_ssize_t)(w * 4)));
done:
    free(keys); free(pa); free(pbo);
    PyBuffer_Release(&sb); PyBuffer_Release(&lb); PyBuffer_Release(&db); PyBuffer_Release(&pb);
    return res;
}

/* Occurrence records (key u64, pos_a u32, pos_b u32) grouped by the top `bits` bits of mix64(key) (a counting
   sort, stable). Returns (records bytes, 2**bits + 1 group offsets as int64 bytes). */
static PyObject *py_group_occurrences(PyObject *self, PyObject *args) {
    Py_buffer kb, ab, bb;
    Py_ssize_t bits;
    if (!PyArg_ParseTuple(args, "y*y*y*n", &kb, &ab, &bb, &bits)) return NULL;
    PyObject *res = NULL;
    size_t n = (size_t)kb.len / 8, g = (size_t)1 << (bits > 0 ? bits : 0);
    Occ *out = NULL;
    int64_t *bounds = NULL;
    uint16_t *grp = NULL;
    if (bits < 1 || bits > 16 || (size_t)ab.len != 4 * n || (size_t)bb.len != 4 * n) {
        PyErr_SetString(PyExc_ValueError, "group_occurrences: bits in 1..16 and equal lengths");
        goto done;
    }
    out = malloc((n ? n : 1) * sizeof(Occ));
    bounds = calloc(g + 1, sizeof(int64_t));
    grp = malloc((n ? n : 1) * sizeof(uint16_t));
    if (!out || !bounds || !grp) { PyErr_NoMemory(); goto done; }
    const uint64_t *k = kb.buf;
    const uint32_t *pa = ab.buf, *pb = bb.buf;
    for (size_t i = 0; i < n; i++) { grp[i] = (uint16_t)(mix64(k[i]) >> (64 - bits)); bounds[grp[i] + 1]++; }
    for (size_t j = 0; j < g; j++) bounds[j + 1] += bounds[j];
    int64_t *fill = malloc(g * sizeof(int64_t));
    if (!fill) { PyErr_NoMemory(); goto done; }
    memcpy(fill, bounds, g * sizeof(int64_t));
    for (size_t i = 0; i < n; i++) {
        Occ *o = &out[fill[grp[i]]++];
        o->key = k[i]; o->a = pa[i]; o->b = pb[i];
    }
    free(fill);
    res = Py_BuildValue("(NN)", PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)(n * sizeof(Occ))),
                        PyBytes_FromStringAndSize((const char *)bounds, (Py_ssize_t)((g + 1) * 8)));
done:
    free(out); free(bounds); free(grp);
    PyBuffer_Release(&kb); PyBuffer_Release(&ab); PyBuffer_Release(&bb);
    return res;
}

/* counts[keys[i]] += 1 for every key (uint32 or int64 keys; counts: a writable int64 buffer). Keys outside
   counts are an error. The documents' histogram cells a partition sends, added up where they land. */
static PyObject *py_add_counts(PyObject *self, PyObject *args) {
    Py_buffer cb, kb;
    int wide;
    if (!PyArg_ParseTuple(args, "w*y*p", &cb, &kb, &wide)) return NULL;
    int64_t *c = cb.buf;
    size_t nc = (size_t)cb.len / 8, nk = (size_t)kb.len / (wide ? 8 : 4), bad = 0;
    if (wide) {
        const int64_t *k = kb.buf;
        for (size_t i = 0; i < nk; i++) { if ((uint64_t)k[i] < nc) c[k[i]]++; else bad++; }
    } else {
        const uint32_t *k = kb.buf;
        for (size_t i = 0; i < nk; i++) { if (k[i] < nc) c[k[i]]++; else bad++; }
    }
    PyBuffer_Release(&cb); PyBuffer_Release(&kb);
    if (bad) { PyErr_SetString(PyExc_IndexError, "add_counts: key outside the counts array"); return NULL; }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"tokenize", py_tokenize, METH_VARARGS,
     "tokenize(text) -> (starts, ends, hashes, flags): int64/int64/uint64 arrays as bytes; flags bit 0 = mojibake."},
    {"doc_view", py_doc_view, METH_VARARGS,
     "doc_view(word_hashes, shingle_size, window) -> (sorted unique shingle hashes u64, fp hashes u64, fp pos u32)."},
    {"passages", py_passages, METH_VARARGS,
     "passages(text_a, starts_a, ends_a, hashes_a, mask_a, text_b, starts_b, ends_b, hashes_b, mask_b, "
     "spans (n, 5) int64, seed_size) -> (m, 5) int64 character offsets a_start, a_end, b_start, b_end and the "
     "span's index (m <= n: a passage left with no word is dropped); masks: one byte per word, or empty for none."},
    {"group_rows", py_group_rows, METH_VARARGS,
     "group_rows(hashes u64, docs u32, pos u32) -> the rows grouped by hash, stably, as three byte columns."},
    {"run_pairs", py_run_pairs, METH_VARARGS,
     "run_pairs(starts i64, lengths i64, docs i64, pos u32) -> (pair keys u64, pos_a u32, pos_b u32) of every pair "
     "of rows inside each run."},
    {"group_occurrences", py_group_occurrences, METH_VARARGS,
     "group_occurrences(keys u64, pos_a u32, pos_b u32, bits) -> (records of (u64, u32, u32) grouped by the top "
     "bits of mix64(key), group offsets i64)."},
    {"supported", py_supported, METH_VARARGS,
     "supported(pair_keys u64, pos_a u32, pos_b u32, min_shared, min_span, shingle_size, drift) -> (kept keys u64 "
     "bytes, counts i64 bytes), keys in no useful order; drift < 0 turns the band rule off."},
    {"shared", py_shared, METH_VARARGS, "shared(a, b) -> number of values in both sorted unique uint64 arrays."},
    {"mask", py_mask, METH_VARARGS,
     "mask(text, starts, ends, positions u32, shingle_size, window) -> boilerplate mask (one byte per word)."},
    {"seeds", py_seeds, METH_VARARGS,
     "seeds(word_hashes, mask, seed_size) -> alignment seeds of one document (sorted (hash, pos) records)."},
    {"align", py_align, METH_VARARGS,
     "align(seeds_a, seeds_b, mask_a, mask_b, seed_size, max_gap, min_passage_words, min_identity) -> "
     "int64 (n, 5) array as bytes: a0, a1, b0, b1, matched words per passage, sorted by position. The masks "
     "(one byte per word, 1 = boilerplate) give the documents' lengths."},
    {"ngrams", py_ngrams, METH_VARARGS, "ngrams(word_hashes: uint64 buffer, n) -> uint64 shingle hashes as bytes."},
    {"prints_from_hashes", py_prints_from_hashes, METH_VARARGS,
     "prints_from_hashes(word_hashes, shingle_size, window, num_perm, seed[, word_shape]) -> (sig, has_sig, "
     "fp_hashes, fp_pos, fp_shape); word_shape: one byte per word (shape labels); without it no fingerprint is "
     "flagged."},
    {"fingerprint_batch", py_fingerprint_batch, METH_VARARGS,
     "fingerprint_batch(texts, shingle_size, window, num_perm, seed) -> (n_words u32, flags u8, sigs u32, "
     "has_sig u8, fp_counts u32, fp_hashes u64, fp_pos u32, fp_shape u8), all as bytes."},
    {"figures", py_figures, METH_VARARGS,
     "figures(text, starts i64, ends i64[, names[, hashes u64, facts u64]]) -> one uint64 per word: the hash of "
     "the figure it belongs to (digits joined by . , / - :), or with names of the name it is (a capitalised word "
     "not opening a sentence), or its word hash if it is among the sorted fact-word hashes, 0 if none."},
    {"add_counts", py_add_counts, METH_VARARGS,
     "add_counts(counts writable i64, keys, wide) -> None: counts[k] += 1 for each key (wide: int64 keys, else "
     "uint32)."},
    {"shape", py_shape, METH_VARARGS,
     "shape(text, starts i64, ends i64) -> one byte per word: 1 if the word sits in a template-shaped line."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel",
                                    "doublet's per-document hot loops (tokenize, shingle, MinHash, winnow).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__kernel(void) {
    PyObject *m = PyModule_Create(&module);
    if (m) {
        PyModule_AddIntConstant(m, "FLAG_MOJIBAKE", FLAG_MOJIBAKE);
        PyModule_AddStringConstant(m, "UNICODE_VERSION", DBL_UNICODE_VERSION);
    }
    return m;
}
