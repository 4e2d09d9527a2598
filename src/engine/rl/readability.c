/* readability: the summary's helpfulness checks scaled by the share of its words that are spelled (readability.h). */
#include "engine/rl/readability.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/util/utf8.h"

/* Common English words (greetings and the words of short replies among them) and the words of arithmetic and of
 * explaining a solution, lower case. A summary's other words must appear earlier in the completion to count as
 * spelled: a model restating its reasoning reuses them. */
static const char *const COMMON[] = {
    "a", "about", "above", "add", "added", "adding", "addition", "after", "again", "all", "also", "an", "and",
    "answer", "answers", "any", "are", "as", "at", "back", "be", "because", "been", "before", "being", "below",
    "between", "both", "but", "by", "calculate", "calculated", "calculating", "can", "can't", "check", "checked",
    "checking", "coefficient", "collect", "collecting", "combine", "combining", "come", "compute", "computed",
    "computing", "constant", "correct", "could", "day", "difference", "digit", "digits", "divide", "divided",
    "dividing", "division", "do", "does", "doesn't", "don't", "done", "each", "eight", "eleven", "else", "equal",
    "equals", "equation", "equations", "even", "every", "example", "expression", "factor", "final", "find",
    "finding", "first", "five", "for", "four", "from", "get", "gets", "getting", "give", "gives", "giving", "go",
    "going", "good", "great", "greater", "had", "half", "has", "have", "he", "hello", "help", "hence", "her",
    "here", "here's", "hi", "him", "his", "how", "i", "i'm", "if", "in", "into", "is", "isn't", "isolate",
    "isolating", "it", "it's", "its", "just", "know", "larger", "largest", "last", "least", "left", "less", "let",
    "let's", "like", "look", "make", "makes", "making", "many", "maybe", "me", "minus", "more", "most", "move",
    "moved", "moves", "moving", "much", "multiplication", "multiplied", "multiply", "multiplying", "must", "my",
    "need", "needs", "negative", "new", "next", "nine", "no", "not", "now", "number", "numbers", "odd", "of", "ok",
    "okay", "old", "on", "once", "one", "only", "or", "other", "our", "out", "over", "people", "please", "plus",
    "positive", "problem", "problems", "product", "put", "question", "questions", "quotient", "really", "result",
    "results", "right", "said", "same", "say", "second", "see", "seven", "she", "side", "sides", "simplify",
    "simplifying", "six", "smaller", "smallest", "so", "solution", "solve", "solved", "solving", "sorry", "step",
    "steps", "subtract", "subtracted", "subtracting", "subtraction", "sum", "sure", "take", "taking", "ten", "term",
    "terms", "than", "thank", "thanks", "that", "that's", "the", "their", "them", "then", "there", "there's",
    "therefore", "these", "they", "think", "this", "those", "three", "thus", "time", "times", "to", "together",
    "total", "true", "twelve", "two", "under", "unknown", "up", "us", "use", "used", "uses", "using", "value",
    "values", "variable", "very", "want", "was", "way", "we", "we're", "well", "were", "what", "what's", "when",
    "which", "while", "who", "why", "will", "with", "without", "work", "world", "would", "year", "yes", "you",
    "you're", "your", "zero",
};

static bool common_word(const char *w) {
    for (size_t i = 0; i < sizeof COMMON / sizeof COMMON[0]; i++)
        if (strcmp(COMMON[i], w) == 0) return true;
    return false;
}

static bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_letter(char c) { return is_lower(c) || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }
/* Punctuation that may stand around a word ("left," "(x" "gives:"). */
static bool is_edge_punct(char c) { return c && strchr(".,:;!?()[]{}\"'`*", c) != NULL; }

/* Whether the lower-case word w[0..n) occurs in s[0..m) as a whole word, ignoring case. */
static bool occurs(const char *s, size_t m, const char *w, size_t n) {
    for (size_t i = 0; i + n <= m; i++) {
        if (i > 0 && is_letter(s[i - 1])) continue;
        size_t k = 0;
        while (k < n && lower(s[i + k]) == w[k]) k++;
        if (k == n && (i + n == m || !is_letter(s[i + n]))) return true;
    }
    return false;
}

enum token_kind { TOKEN_NONE, TOKEN_SPELLED, TOKEN_MISSPELT };

/* What a whitespace-separated token of the summary is: not a word (numbers, symbols, "5x", text in another script,
 * judged by the language check instead), a spelled word, or a misspelt one. before[0..m) is the text before the
 * summary. */
static enum token_kind classify(const char *t, size_t n, const char *before, size_t m) {
    while (n > 0 && is_edge_punct(t[0])) t++, n--;
    while (n > 0 && is_edge_punct(t[n - 1])) n--;
    if (n == 0) return TOKEN_NONE;
    size_t letters = 0, digits = 0, high = 0;
    for (size_t i = 0; i < n; i++) {
        letters += is_letter(t[i]);
        digits += is_digit(t[i]);
        high += (unsigned char)t[i] >= 0x80;
    }
    if (high) {
        size_t bad;
        if (!utf8_valid(t, n, &bad)) return TOKEN_MISSPELT;
        for (size_t i = 0; i + 2 < n; i++) /* U+FFFD: a byte the model's tokens did not make into a character */
            if ((unsigned char)t[i] == 0xEF && (unsigned char)t[i + 1] == 0xBF && (unsigned char)t[i + 2] == 0xBD)
                return TOKEN_MISSPELT;
        return letters ? TOKEN_MISSPELT : TOKEN_NONE; /* Latin letters glued to another script */
    }
    if (letters == 0) return TOKEN_NONE;                                 /* 12, =, +, 3/4 */
    if (letters == 1 && digits + letters == n && is_letter(t[n - 1])) return TOKEN_NONE; /* x, 5x */
    if (digits) return TOKEN_MISSPELT;                                   /* 37o, 3ng */
    char w[48];
    if (n >= sizeof w) return TOKEN_MISSPELT;
    for (size_t i = 0; i < n; i++) {
        if (!is_letter(t[i]) && !((t[i] == '\'' || t[i] == '-') && i > 0 && i + 1 < n)) return TOKEN_MISSPELT;
        w[i] = lower(t[i]);
    }
    w[n] = '\0';
    return common_word(w) || occurs(before, m, w, n) ? TOKEN_SPELLED : TOKEN_MISSPELT;
}

/* The summary: after the first "</think>", up to "<answer>" (the tags are not words). */
static bool summary(const char *text, size_t len, size_t *start, size_t *end) {
    static const char close[] = "</think>";
    const char *p = memmem(text, len, close, sizeof close - 1);
    if (!p) return false;
    *start = (size_t)(p - text) + sizeof close - 1;
    const char *a = memmem(text + *start, len - *start, "<answer>", 8);
    *end = a ? (size_t)(a - text) : len;
    return true;
}

double readability_spelled_share(const char *text, size_t len) {
    size_t s, e;
    if (!summary(text, len, &s, &e)) return 1.0;
    size_t spelled = 0, words = 0;
    for (size_t i = s; i < e;) {
        while (i < e && is_space(text[i])) i++;
        size_t j = i;
        while (j < e && !is_space(text[j])) j++;
        if (j > i) {
            enum token_kind k = classify(text + i, j - i, text, s);
            words += k != TOKEN_NONE;
            spelled += k == TOKEN_SPELLED;
        }
        i = j;
    }
    return words ? (double)spelled / (double)words : 1.0;
}

double readability_score(const char *text, size_t len, enum reward_lang lang) {
    return reward_helpfulness(text, len, lang) * readability_spelled_share(text, len);
}
