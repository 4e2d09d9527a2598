/* draw: one frame of the dashboard — erase, draw every visible panel, overlays last, then a single doupdate(),
 * so the terminal receives one diff per frame. Also the header, the health strip, the footer, the help and
 * confirmation overlays, and the small text helpers every panel uses. Reads state; changes nothing but curses. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "keys.h"
#include "text/sanitize.h"

attr_t ui_attr(const struct tui *t, enum color_role role) {
    return t->role_attr[role];
}

int ui_putn(struct tui *t, int y, int x, int w, enum color_role role, attr_t extra, const char *s, size_t n) {
    if (w <= 0 || y < 0 || y >= t->rows || x < 0 || x >= t->cols) return 0;
    if (x + w > t->cols) w = t->cols - x;
    int used;
    size_t bytes = san_fit(s, n, w, &used);
    if (bytes == 0) return 0;
    attrset(t->role_attr[role] | extra);
    mvaddnstr(y, x, s, (int)bytes);
    return used;
}

int ui_put(struct tui *t, int y, int x, int w, enum color_role role, attr_t extra, const char *s) {
    return ui_putn(t, y, x, w, role, extra, s, strlen(s));
}

int ui_put_whole(struct tui *t, int y, int x, int w, enum color_role role, attr_t extra, const char *s) {
    size_t n = strlen(s);
    if (x + w > t->cols) w = t->cols - x;
    if (san_width(s, n) > w) return 0;
    return ui_putn(t, y, x, w, role, extra, s, n);
}

void ui_fill(struct tui *t, int y, int x, int w, attr_t a) {
    if (y < 0 || y >= t->rows) return;
    attrset(a);
    for (int i = 0; i < w && x + i < t->cols; i++) mvaddch(y, x + i, ' ');
}

void ui_box(struct tui *t, const struct rect *r, bool focused) {
    enum color_role role = focused ? COLOR_ROLE_BORDER_FOCUS : COLOR_ROLE_BORDER;
    const char *h = t->ascii ? "-" : "─", *v = t->ascii ? "|" : "│";
    const char *tl = t->ascii ? "+" : "╭", *tr = t->ascii ? "+" : "╮", *bl = t->ascii ? "+" : "╰",
               *br = t->ascii ? "+" : "╯";
    int x1 = r->x + r->w - 1, y1 = r->y + r->h - 1;
    ui_put(t, r->y, r->x, 1, role, 0, tl);
    ui_put(t, r->y, x1, 1, role, 0, tr);
    ui_put(t, y1, r->x, 1, role, 0, bl);
    ui_put(t, y1, x1, 1, role, 0, br);
    for (int x = r->x + 1; x < x1; x++) {
        ui_put(t, r->y, x, 1, role, 0, h);
        ui_put(t, y1, x, 1, role, 0, h);
    }
    for (int y = r->y + 1; y < y1; y++) {
        ui_put(t, y, r->x, 1, role, 0, v);
        ui_put(t, y, x1, 1, role, 0, v);
    }
}

/* ---- header ---- */

static enum color_role state_role(const struct tui *t, enum rs_liveness live) {
    if (live == RS_STALE) return COLOR_ROLE_WARN;
    if (live == RS_NO_STATUS) return COLOR_ROLE_INACTIVE;
    switch (t->src->status.state) {
    case RUNCTL_STATE_RUNNING:
    case RUNCTL_STATE_FINISHED:
        return COLOR_ROLE_OK;
    case RUNCTL_STATE_FAILED:
        return COLOR_ROLE_ALARM;
    default:
        return COLOR_ROLE_WARN;
    }
}

static void draw_progress(struct tui *t, int y, int x, int w, double frac) {
    if (w < 3) return;
    int inner = w - 2;
    int fill = (int)floor(frac * inner + 0.5);
    if (fill > inner) fill = inner;
    ui_put(t, y, x, 1, COLOR_ROLE_INACTIVE, 0, "[");
    for (int i = 0; i < inner; i++) {
        int step = inner > 1 ? i * (COLOR_GRAD_STEPS - 1) / (inner - 1) : 0;
        if (i < fill) {
            attrset(t->grad_attr[COLOR_GRAD_PROGRESS][step] | (theme_is_mono(&t->theme) ? A_REVERSE : 0));
            mvaddstr(y, x + 1 + i, t->ascii ? "#" : "█");
        } else {
            ui_put(t, y, x + 1 + i, 1, COLOR_ROLE_INACTIVE, 0, t->ascii ? "-" : "░");
        }
    }
    ui_put(t, y, x + w - 1, 1, COLOR_ROLE_INACTIVE, 0, "]");
}

static void draw_header(struct tui *t, const struct rect *r) {
    struct run_source *rs = t->src;
    char buf[256], a[32], b[32];
    int y = r->y, x = r->x, end = r->x + r->w;
    ui_fill(t, y, x, r->w, ui_attr(t, COLOR_ROLE_MAIN));
    x += ui_put(t, y, x, end - x, COLOR_ROLE_TITLE, A_REVERSE, " r1lab ");
    x += 1;
    x += ui_put(t, y, x, end - x, COLOR_ROLE_TITLE, 0, t->run_name);
    const char *stage = rs->have_status && rs->status.stage[0] ? rs->status.stage : rs->last.stage;
    if (stage[0]) {
        x += ui_put(t, y, x, end - x, COLOR_ROLE_INACTIVE, 0, " ");
        x += ui_put(t, y, x, end - x, COLOR_ROLE_INACTIVE, 0, stage);
    }
    enum rs_liveness live = run_source_liveness(rs, t->now);
    /* no status.json: a recording when there are metrics, else a run that has not started yet */
    const char *state = live == RS_NO_STATUS ? (rs->have_last ? "recorded" : "waiting")
                        : live == RS_STALE   ? "stale"
                                             : runctl_state_name(rs->status.state);
    snprintf(buf, sizeof buf, " %s %s", t->ascii ? "*" : "●", state);
    x += ui_put(t, y, x, end - x, state_role(t, live), A_BOLD, buf);
    if (t->stopping) {
        x += ui_put(t, y, x, end - x, COLOR_ROLE_WARN, A_BOLD, " (stopping...)");
    } else if (t->pending != RUNCTL_CMD_NONE) {
        snprintf(buf, sizeof buf, " (%s requested)", runctl_cmd_name(t->pending));
        x += ui_put(t, y, x, end - x, COLOR_ROLE_WARN, 0, buf);
    }

    /* Right side: alarms, then loading progress. */
    char right[64] = "";
    enum color_role rrole = COLOR_ROLE_ALARM;
    if (t->n_alarms) {
        snprintf(right, sizeof right, " %s %zu alarm%s ", t->ascii ? "!" : "⚠", t->n_alarms,
                 t->n_alarms == 1 ? "" : "s");
    } else if (run_source_loaded(rs) < 1.0) {
        snprintf(right, sizeof right, " loading %.0f%% ", 100 * run_source_loaded(rs));
        rrole = COLOR_ROLE_WARN;
    }
    int rw = san_width(right, strlen(right));
    int avail = end - rw - x;

    /* Step, progress bar, ETA. */
    int64_t max = run_source_max_steps(rs);
    int64_t step = rs->have_last ? rs->last.step : (rs->have_status ? rs->status.step : 0);
    if (max > 0)
        snprintf(buf, sizeof buf, "  step %lld/%lld ", (long long)step, (long long)max);
    else
        snprintf(buf, sizeof buf, "  step %lld ", (long long)step);
    int used = ui_put_whole(t, y, x, avail, COLOR_ROLE_MAIN, 0, buf);
    x += used;
    avail -= used;
    if (used > 0 && max > 0 && avail > 20) {
        double frac = (double)step / (double)max;
        if (frac > 1) frac = 1;
        double eta = run_source_eta(rs);
        bool ended = live == RS_ENDED || live == RS_NO_STATUS;
        snprintf(b, sizeof b, " %3.0f%%", 100 * frac);
        char tail[64];
        snprintf(tail, sizeof tail, "%s%s%s", b, ended ? "" : "  ETA ", ended ? "" : fmt_duration(eta, a, sizeof a));
        int tw = (int)strlen(tail);
        int bar = avail - tw - 1;
        if (bar > 40) bar = 40;
        if (bar >= 5) {
            draw_progress(t, y, x, bar, frac);
            x += bar;
            avail -= bar;
        }
        x += ui_put_whole(t, y, x, avail, COLOR_ROLE_MAIN, 0, tail);
    }
    if (rw > 0 && end - rw >= x) ui_put(t, y, end - rw, rw, rrole, A_BOLD, right);
}

/* ---- health strip ---- */

struct health_item {
    const char *label;
    enum metric m;
};

/* One row of labelled sparklines: each item gets an equal share of the width, its value right-aligned and never cut
 * (the label goes first when both do not fit, then the item stays empty), the sparkline in what is left. */
static void draw_health_row(struct tui *t, int y, int x, int w, const struct health_item *items, int n) {
    int each = w / n;
    for (int i = 0; i < n; i++) {
        int ix = x + i * each, iw = (i == n - 1) ? w - i * each : each - 1;
        const struct series *s = &t->src->m[items[i].m];
        char v[32];
        bool has = t->src->have_last && metrics_has(&t->src->last, items[i].m);
        if (has)
            fmt_value(t->src->last.value[items[i].m], v, sizeof v);
        else if (!series_empty(s))
            fmt_value(s->last_y, v, sizeof v);
        else
            snprintf(v, sizeof v, "n/a");
        int vw = (int)strlen(v), lw = san_width(items[i].label, strlen(items[i].label));
        if (lw + 1 + vw <= iw)
            ui_put(t, y, ix, iw, COLOR_ROLE_INACTIVE, 0, items[i].label);
        else
            lw = -1; /* no room for the label: the value alone */
        int sw = iw - lw - vw - 2;
        if (sw > 0 && !series_empty(s)) draw_spark(t, y, ix + lw + 1, sw, s);
        if (vw <= iw)
            ui_put(t, y, ix + iw - vw, vw, strcmp(v, "n/a") == 0 ? COLOR_ROLE_INACTIVE : COLOR_ROLE_MAIN, 0, v);
        if (i < n - 1 && iw + 1 == each) ui_put(t, y, ix + iw, 1, COLOR_ROLE_BORDER, 0, t->ascii ? "|" : "│");
    }
}

/* A field of the health line: its text in full and in a shorter form ("": none), and how it is drawn. */
struct health_field {
    char full[160], brief[64];
    enum color_role role;
    bool labelled; /* the first word is a label, drawn dim */
};

/* Columns the fields take, each in full or brief form, with two spaces after each; fields that do not fit even
 * brief are left out (shown[i] false). Returns how many fit. */
static int fit_fields(const struct health_field *f, int n, int w, bool brief, bool *shown, bool *use_brief) {
    int x = 0, count = 0;
    for (int i = 0; i < n; i++) {
        int fw = san_width(f[i].full, strlen(f[i].full));
        int bw = f[i].brief[0] ? san_width(f[i].brief, strlen(f[i].brief)) : fw;
        use_brief[i] = brief && f[i].brief[0];
        int need = use_brief[i] ? bw : fw;
        if (x + need > w && !use_brief[i] && f[i].brief[0] && x + bw <= w) {
            use_brief[i] = true;
            need = bw;
        }
        shown[i] = x + need <= w;
        if (shown[i]) {
            x += need + 2;
            count++;
        }
    }
    return count;
}

/* A message (the trainer's newest event, an alarm) cut at a word boundary with an ellipsis when it is too long (a
 * word, and so a number, is never split); NULL when not even its first word fits. */
static const char *text_fit(struct tui *t, const char *msg, int w, char *out, size_t cap) {
    size_t n = strlen(msg);
    if (san_width(msg, n) <= w) return msg;
    const char *ell = t->ascii ? "..." : "…";
    int ew = t->ascii ? 3 : 1;
    if (w - ew <= 0) return NULL;
    int used;
    size_t fit = san_fit(msg, n, w - ew, &used);
    while (fit > 0 && msg[fit] != ' ') fit--; /* back to the space before the word that does not fit */
    while (fit > 0 && msg[fit - 1] == ' ') fit--;
    if (fit == 0) return NULL;
    snprintf(out, cap, "%.*s%s", (int)fit, msg, ell);
    return out;
}

static void draw_health(struct tui *t, const struct rect *r) {
    static const struct health_item row1[] = {
        {"KL", M_KL}, {"entropy", M_ENTROPY}, {"clip", M_CLIP_REGION}, {"grad", M_GRAD_NORM}, {"lr", M_LR},
    };
    static const struct health_item row3[] = {
        {"loss", M_LOSS},          {"r-std", M_REWARD_STD}, {"0-std", M_FRAC_ZERO_STD},
        {"reflect", M_REFLECTION}, {"chk acc", M_REFL_ACC_WITH},
    };
    draw_health_row(t, r->y, r->x, r->w, row1, 5);
    if (r->h >= 3) draw_health_row(t, r->y + 2, r->x, r->w, row3, 5);

    /* Throughput, timing, device, memory, checkpoint, skipped lines: whole fields, in full, else brief, else left
     * out; then the newest event in what remains. */
    struct run_source *rs = t->src;
    const struct metrics_rec *l = &rs->last;
    char a[32], b[32];
    struct health_field f[9];
    int n = 0;
    memset(f, 0, sizeof f);
    const struct {
        const char *label, *brief;
        enum metric m;
    } tp[] = {{"rollout", "roll", M_TPS_ROLLOUT}, {"train", "train", M_TPS_TRAIN}};
    for (int i = 0; i < 2; i++) {
        bool has = rs->have_last && metrics_has(l, tp[i].m);
        const char *v = has ? fmt_value(l->value[tp[i].m], a, sizeof a) : "n/a";
        snprintf(f[n].full, sizeof f[n].full, "%s %s tok/s", tp[i].label, v);
        snprintf(f[n].brief, sizeof f[n].brief, "%s %s", tp[i].brief, v);
        f[n].labelled = true;
        f[n++].role = has ? COLOR_ROLE_MAIN : COLOR_ROLE_INACTIVE;
    }
    bool has_time = rs->have_last && metrics_has(l, M_TIME_STEP);
    snprintf(f[n].full, sizeof f[n].full, "step %s%s", has_time ? fmt_value(l->value[M_TIME_STEP], a, sizeof a) : "n/a",
             has_time ? "s" : "");
    f[n].labelled = true;
    f[n++].role = has_time ? COLOR_ROLE_MAIN : COLOR_ROLE_INACTIVE;
    if (rs->have_status && rs->status.device[0]) {
        snprintf(f[n].full, sizeof f[n].full, "%s", rs->status.device);
        /* "CPU (OpenBLAS, 2 threads)" -> "CPU" */
        snprintf(f[n].brief, sizeof f[n].brief, "%.*s", (int)strcspn(rs->status.device, "("), rs->status.device);
        size_t bl = strlen(f[n].brief);
        while (bl > 0 && f[n].brief[bl - 1] == ' ') f[n].brief[--bl] = '\0';
        if (bl == 0 || strcmp(f[n].brief, f[n].full) == 0) f[n].brief[0] = '\0';
        f[n++].role = COLOR_ROLE_MAIN;
    }
    if (rs->have_last && metrics_has(l, M_WORLD_SIZE) && metrics_has(l, M_RANK_TPS_MIN)) {
        /* A data-parallel run: the slowest rank sets the pace of every step (they meet at the all-reduce). */
        char c[32];
        snprintf(f[n].full, sizeof f[n].full, "ranks %s: %s..%s tok/s", fmt_value(l->value[M_WORLD_SIZE], a, sizeof a),
                 fmt_value(l->value[M_RANK_TPS_MIN], b, sizeof b), fmt_value(l->value[M_RANK_TPS_MAX], c, sizeof c));
        snprintf(f[n].brief, sizeof f[n].brief, "ranks %s", fmt_value(l->value[M_WORLD_SIZE], a, sizeof a));
        f[n].labelled = true;
        f[n++].role = COLOR_ROLE_MAIN;
    }
    if (rs->have_last && (metrics_has(l, M_MEM_HOST) || metrics_has(l, M_MEM_DEVICE))) {
        char *p = f[n].full;
        size_t cap = sizeof f[n].full;
        if (metrics_has(l, M_MEM_HOST)) snprintf(p, cap, "mem %s", fmt_bytes(l->value[M_MEM_HOST], a, sizeof a));
        if (metrics_has(l, M_MEM_DEVICE)) {
            size_t k = strlen(p);
            snprintf(p + k, cap - k, "%sgpu %s", k ? " " : "", fmt_bytes(l->value[M_MEM_DEVICE], b, sizeof b));
        }
        f[n++].role = COLOR_ROLE_INACTIVE;
    }
    if (rs->latest_ckpt[0]) {
        snprintf(f[n].full, sizeof f[n].full, "ckpt %s", rs->latest_ckpt);
        snprintf(f[n].brief, sizeof f[n].brief, "%s", rs->latest_ckpt);
        f[n++].role = COLOR_ROLE_INACTIVE;
    }
    if (rs->bad_metrics || rs->bad_samples || rs->metrics_lr.too_long || rs->samples_lr.too_long) {
        unsigned long long bm = (unsigned long long)(rs->bad_metrics + rs->metrics_lr.too_long),
                           bs = (unsigned long long)(rs->bad_samples + rs->samples_lr.too_long);
        snprintf(f[n].full, sizeof f[n].full, "skipped lines: %llu metrics, %llu samples", bm, bs);
        snprintf(f[n].brief, sizeof f[n].brief, "skipped %llu+%llu", bm, bs);
        f[n++].role = COLOR_ROLE_WARN;
    }
    bool shown[9], brief[9], shown2[9], brief2[9];
    int got = fit_fields(f, n, r->w, false, shown, brief);
    if (got < n && fit_fields(f, n, r->w, true, shown2, brief2) > got) {
        memcpy(shown, shown2, sizeof shown);
        memcpy(brief, brief2, sizeof brief);
    }
    int y = r->y + 1, x = r->x, end = r->x + r->w;
    for (int i = 0; i < n; i++) {
        if (!shown[i]) continue;
        const char *text = brief[i] ? f[i].brief : f[i].full;
        size_t label = f[i].labelled ? strcspn(text, " ") + 1 : 0; /* fit_fields checked the whole field fits */
        if (label > strlen(text)) label = 0;
        x += ui_putn(t, y, x, end - x, COLOR_ROLE_INACTIVE, 0, text, label);
        x += ui_put_whole(t, y, x, end - x, f[i].role, 0, text + label);
        x += 2;
    }
    const struct rs_event *ev = run_source_last_event(rs);
    const char *msg = ev && x < end - 8 ? text_fit(t, ev->msg, end - x, t->linebuf, 4096) : NULL;
    if (msg) {
        enum color_role er = ev->level == LOG_ERROR  ? COLOR_ROLE_ALARM
                             : ev->level == LOG_WARN ? COLOR_ROLE_WARN
                                                     : COLOR_ROLE_INACTIVE;
        ui_put(t, y, x, end - x, er, 0, msg);
    }
}

/* ---- footer ---- */

static void draw_footer(struct tui *t, const struct rect *r) {
    int y = r->y, x = r->x, end = r->x + r->w;
    ui_fill(t, y, x, r->w, ui_attr(t, COLOR_ROLE_MAIN));
    if (t->prompt_active) {
        x += ui_put(t, y, x, end - x, COLOR_ROLE_HI, 0, "/");
        x += ui_putn(t, y, x, end - x - 1, COLOR_ROLE_MAIN, 0, t->prompt, t->prompt_len);
        ui_put(t, y, x, 1, COLOR_ROLE_MAIN, A_REVERSE, " ");
        ui_put(t, y, end - 26 > x + 2 ? end - 26 : end, 26, COLOR_ROLE_INACTIVE, 0, "Enter: search  Esc: cancel");
        return;
    }
    if (t->message[0] && t->now < t->message_until) {
        ui_put(t, y, x, r->w, t->message_alarm ? COLOR_ROLE_WARN : COLOR_ROLE_MAIN, 0, t->message);
        return;
    }
    if (t->n_alarms) {
        for (size_t i = 0; i < t->n_alarms && x < end - 10; i++) {
            const char *mark = t->ascii ? "! " : "⚠ ", *text = t->alarms[i].text;
            int mw = san_width(mark, strlen(mark));
            /* whole alarms (they carry numbers); the first one cut at a word if it must be */
            if (mw + san_width(text, strlen(text)) > end - x - 8) {
                text = i == 0 ? text_fit(t, text, end - x - 8 - mw, t->linebuf, 4096) : NULL;
                if (!text) break;
            }
            x += ui_put(t, y, x, end - x - 8, COLOR_ROLE_ALARM, 0, mark);
            x += ui_put(t, y, x, end - x - 8, COLOR_ROLE_ALARM, 0, text);
            x += ui_put(t, y, x, end - x - 8, COLOR_ROLE_INACTIVE, 0, "  ");
        }
        ui_put(t, y, end - 7, 7, COLOR_ROLE_HI, 0, "? help");
        return;
    }
    static const struct {
        const char *key, *what;
    } hints[] = {{"q", "quit"},    {"p", "pause"},   {"s", "save"},        {"e", "eval"},
                 {"Tab", "focus"}, {"←→", "groups"}, {"PgUp/Dn", "steps"}, {"/", "search"},
                 {"+-", "smooth"}, {"l", "log"},     {"t", "theme"},       {"?", "help"}};
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        const char *k = hints[i].key;
        if (t->ascii && strcmp(k, "←→") == 0) k = "Left/Right";
        int need = san_width(k, strlen(k)) + (int)strlen(hints[i].what) + 3;
        if (x + need > end) break;
        x += ui_put(t, y, x, end - x, COLOR_ROLE_HI, 0, k);
        x += ui_put(t, y, x, end - x, COLOR_ROLE_INACTIVE, 0, " ");
        x += ui_put(t, y, x, end - x, COLOR_ROLE_MAIN, 0, hints[i].what);
        x += 2;
    }
}

/* ---- overlays ---- */

static struct rect center_box(const struct tui *t, int h, int w) {
    if (w > t->cols - 2) w = t->cols - 2;
    if (h > t->rows - 2) h = t->rows - 2;
    return (struct rect){(t->rows - h) / 2, (t->cols - w) / 2, h, w};
}

static void clear_rect(struct tui *t, const struct rect *r) {
    for (int y = r->y; y < r->y + r->h; y++) ui_fill(t, y, r->x, r->w, ui_attr(t, COLOR_ROLE_MAIN));
}

static void draw_help(struct tui *t) {
    int want_h = (int)keys_table_len + 4;
    struct rect r = center_box(t, want_h, 72);
    clear_rect(t, &r);
    ui_box(t, &r, true);
    ui_put(t, r.y, r.x + 2, r.w - 4, COLOR_ROLE_TITLE, 0, " Keys ");
    int rows = r.h - 3;
    int max_scroll = (int)keys_table_len - rows;
    if (max_scroll < 0) max_scroll = 0;
    if (t->view.help_scroll > max_scroll) t->view.help_scroll = max_scroll;
    if (t->view.help_scroll < 0) t->view.help_scroll = 0;
    for (int i = 0; i < rows && (size_t)(i + t->view.help_scroll) < keys_table_len; i++) {
        size_t k = (size_t)(i + t->view.help_scroll);
        keys_label(k, t->ascii, t->linebuf, 4096);
        ui_put(t, r.y + 1 + i, r.x + 2, 12, COLOR_ROLE_HI, 0, t->linebuf);
        ui_put(t, r.y + 1 + i, r.x + 2 + 13, r.w - 4 - 13, COLOR_ROLE_MAIN, 0, keys_table[k].help);
    }
    char foot[96];
    snprintf(foot, sizeof foot, "%s%s", max_scroll > 0 ? (t->ascii ? "Up/Down: more  " : "↑/↓: more  ") : "",
             "Esc or ?: close");
    ui_put(t, r.y + r.h - 2, r.x + 2, r.w - 4, COLOR_ROLE_INACTIVE, 0, foot);
}

static void draw_dialog(struct tui *t, const char *title, const char *const *lines, int n) {
    int w = 0;
    for (int i = 0; i < n; i++) {
        int lw = san_width(lines[i], strlen(lines[i]));
        if (lw > w) w = lw;
    }
    struct rect r = center_box(t, n + 4, w + 6);
    clear_rect(t, &r);
    ui_box(t, &r, true);
    ui_put(t, r.y, r.x + 2, r.w - 4, COLOR_ROLE_TITLE, 0, title);
    for (int i = 0; i < n; i++)
        ui_put(t, r.y + 2 + i, r.x + 3, r.w - 6, i == 0 ? COLOR_ROLE_MAIN : COLOR_ROLE_HI, 0, lines[i]);
}

static void draw_too_small(struct tui *t) {
    char a[64], b[64];
    snprintf(a, sizeof a, "terminal too small (need %d%s%d)", t->lay.need_cols, t->ascii ? "x" : "×", t->lay.need_rows);
    snprintf(b, sizeof b, "now %d%s%d", t->cols, t->ascii ? "x" : "×", t->rows);
    int y = t->rows / 2 - 1;
    if (y < 0) y = 0;
    int aw = san_width(a, strlen(a)), bw = san_width(b, strlen(b));
    ui_put(t, y, aw < t->cols ? (t->cols - aw) / 2 : 0, t->cols, COLOR_ROLE_WARN, 0, a);
    if (y + 1 < t->rows) ui_put(t, y + 1, bw < t->cols ? (t->cols - bw) / 2 : 0, t->cols, COLOR_ROLE_INACTIVE, 0, b);
}

void draw_frame(struct tui *t) {
    struct layout_opts lo = {t->view.zoom, t->pipe != NULL};
    layout_compute(t->rows, t->cols, &lo, &t->lay);
    erase();
    if (t->lay.too_small) {
        draw_too_small(t);
    } else {
        const struct rect *r = t->lay.r;
        draw_header(t, &r[PANEL_HEADER]);
        if (t->lay.visible[PANEL_STAGES]) draw_stages(t, &r[PANEL_STAGES]);
        draw_health(t, &r[PANEL_HEALTH]);
        if (t->lay.visible[PANEL_REWARD]) draw_reward(t, &r[PANEL_REWARD]);
        if (t->lay.visible[PANEL_LENGTH]) draw_length(t, &r[PANEL_LENGTH]);
        if (t->lay.visible[PANEL_HIST]) draw_hist(t, &r[PANEL_HIST]);
        if (t->lay.visible[PANEL_TRACES]) draw_traces(t, &r[PANEL_TRACES]);
        draw_footer(t, &r[PANEL_FOOTER]);
        if (t->overlay == UI_OVERLAY_HELP) {
            draw_help(t);
        } else if (t->overlay == UI_OVERLAY_QUIT) {
            static const char *const l[] = {"The run is live. Leave the dashboard how?", "d  detach: training goes on",
                                            "s  stop training (saves a checkpoint)", "Esc  stay"};
            draw_dialog(t, " Quit ", l, 4);
        } else if (t->overlay == UI_OVERLAY_INTERRUPT) {
            static const char *const l[] = {"Save a checkpoint and stop training?", "y  save and stop",
                                            "n, Esc  keep training", "Ctrl-C again  stop now (the trainer saves)"};
            draw_dialog(t, " Ctrl-C ", l, 4);
        }
    }
    attrset(A_NORMAL);
    wnoutrefresh(stdscr);
    doupdate();
}
