/* A checkpoint save that runs out of room: `r1lab train` must stop with an error that names the file it could not
 * write (exit 1, and a hint that the last checkpoint is intact), leave no half-written checkpoint behind, and keep
 * `latest` on the previous checkpoint, which still loads and is byte for byte what it was.
 *
 * Two ways to run out: a real full disk — a 1.9 MB tmpfs, mounted in a private mount namespace (as root, or in a
 * user namespace otherwise) by a child process that holds it while the test reaches it through /proc/PID/root, so
 * nothing is mounted on the host and nothing is left behind — and a file-size limit (RLIMIT_FSIZE, SIGXFSZ
 * ignored: writes fail with EFBIG), which needs no privilege at all. The tmpfs test skips, saying why, where
 * namespaces are not allowed. No criterion .timeout (criterion 2.4 leaks under LeakSanitizer when many tests have
 * one): every trainer run here ends on its own after three steps. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/model/model.h"
#include "engine/run/checkpoint.h"
#include "engine/util/fsutil.h"
#include "harness.h"

static char *write_config(const char *dir) {
    char *model = th_path("tests/fixtures/models/qwen2_tiny");
    char *path = malloc(4096), text[8192];
    snprintf(path, 4096, "%s/tiny.json", dir);
    snprintf(text, sizeof text,
             "{\"stage\": \"pretrain\", \"model_name_or_path\": \"%s\", \"dataset\": \"world:corpus\",\n"
             " \"dataset_size\": 300, \"max_seq_length\": 48, \"per_device_train_batch_size\": 4,\n"
             " \"learning_rate\": 0.003, \"max_steps\": 3, \"save_steps\": 1, \"seed\": 7, \"threads\": 1}\n",
             model);
    cr_assert(th_write_file(path, text, strlen(text)));
    free(model);
    return path;
}

struct train_result {
    int code;
    char err[8192];
};

/* `r1lab train --headless CONFIG output_dir=RUN EXTRA`, optionally under a file-size limit of fsize bytes. Its
 * stderr goes to a file in the test's directory: never onto the disk that is full. */
static struct train_result train(const char *config, const char *run, const char *extra, long fsize) {
    struct train_result r = {0};
    char out_arg[4400], errfile[4300];
    snprintf(out_arg, sizeof out_arg, "output_dir=%s", run);
    snprintf(errfile, sizeof errfile, "%s.stderr", config);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644), null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(fd, 2);
        if (fsize > 0) {
            signal(SIGXFSZ, SIG_IGN); /* survives exec: a write past the limit then fails with EFBIG */
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        execl(th_bin(), th_bin(), "train", "--headless", config, out_arg, extra, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *f = fopen(errfile, "r");
    if (f) {
        size_t n = fread(r.err, 1, sizeof r.err - 1, f);
        r.err[n] = '\0';
        fclose(f);
    }
    return r;
}

/* After the failed save of step 2: latest is step 1, it loads, it is the reference's step 1, nothing else is left. */
static void expect_previous_checkpoint_intact(const char *run, const char *ref, const struct train_result *r,
                                              const char *why) {
    cr_expect_eq(r->code, 1, "a failed save exits 1 (got %d): %s", r->code, r->err);
    cr_expect(strstr(r->err, "saving checkpoint") && strstr(r->err, "step-000002") && strstr(r->err, why),
              "the error names the checkpoint, the file and the cause (%s): %s", why, r->err);
    cr_expect(strstr(r->err, ".safetensors") || strstr(r->err, ".json"), "the error names a file: %s", r->err);
    cr_expect(strstr(r->err, "hint:") && strstr(r->err, "step 1") && strstr(r->err, "resume_from_checkpoint"),
              "the hint says the last checkpoint is intact: %s", r->err);
    char dir[4200];
    int64_t step;
    cr_assert_eq(checkpoint_find_latest(run, dir, sizeof dir, &step), STATUS_OK, "%s", err_msg());
    cr_expect_eq(step, 1, "latest is still step 1 (got %lld)", (long long)step);
    struct backend *be;
    cr_assert_eq(backend_cpu_open(&be, 1), STATUS_OK);
    struct model m;
    cr_expect_eq(model_load(&m, dir, be), STATUS_OK, "latest does not load: %s", err_msg());
    model_free(&m);
    backend_close(be);
    const char *files[] = {"model.safetensors", "optimizer.safetensors", "trainer_state.json", "config.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char a[4400], b[4400];
        snprintf(a, sizeof a, "%s/%s", dir, files[i]);
        snprintf(b, sizeof b, "%s/checkpoints/step-000001/%s", ref, files[i]);
        cr_expect(th_same_file_bytes(a, b), "%s is not what the save of step 1 wrote", a);
    }
    char ckpts[4400], names[1024] = "";
    snprintf(ckpts, sizeof ckpts, "%s/checkpoints", run);
    DIR *d = opendir(ckpts);
    cr_assert(d != NULL);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && strlen(names) + strlen(e->d_name) + 2 < sizeof names)
            strcat(strcat(names, e->d_name), " ");
    closedir(d);
    cr_expect_str_eq(names, "step-000001 ", "nothing but step 1 in checkpoints/ (no half-written step 2)");
}

/* The reference: the same run with room to spare. */
static char *reference(const char *dir, const char *config) {
    char *ref = malloc(4200);
    snprintf(ref, 4200, "%s/ref", dir);
    struct train_result r = train(config, ref, "save_total_limit=0", 0);
    cr_assert_eq(r.code, 0, "the reference run failed: %s", r.err);
    return ref;
}

Test(disk_full, file_size_limit_during_a_save_keeps_the_previous_checkpoint) {
    char *dir = th_tmpdir("fsize");
    char *config = write_config(dir);
    char *ref = reference(dir, config);
    char run[4200];
    snprintf(run, sizeof run, "%s/run", dir);
    struct train_result r = train(config, run, "max_steps=1", 0);
    cr_assert_eq(r.code, 0, "%s", r.err);
    /* model.safetensors (338 KB) fits, optimizer.safetensors (676 KB) does not. */
    r = train(config, run, "resume_from_checkpoint=true", 500 * 1024);
    expect_previous_checkpoint_intact(run, ref, &r, "File too large");
    fs_remove_tree(dir);
    free(dir);
    free(config);
    free(ref);
}

/* ---- a real full disk: a small tmpfs in a private mount namespace ------------------------------------------ */

struct holder {
    pid_t pid;
    int release; /* closing it lets the holder exit (and the namespace, with its tmpfs, go away) */
};

static bool write_proc(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    return ok;
}

/* Forks a process that mounts a tmpfs of `size` on mnt in a mount namespace of its own and waits. Returns false,
 * with why, when namespaces or mounts are not allowed here. */
static bool hold_tmpfs(const char *mnt, const char *size, struct holder *h, char *why, size_t cap) {
    int ready[2], release[2];
    cr_assert(pipe(ready) == 0 && pipe(release) == 0);
    uid_t uid = getuid();
    gid_t gid = getgid();
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(release[1]);
        char msg[256] = "ok";
        if (unshare(CLONE_NEWNS) != 0) {
            /* Not root: a user namespace makes us root of our own, where a tmpfs may be mounted. */
            char map[64];
            if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
                snprintf(msg, sizeof msg, "unshare: %s", strerror(errno));
            } else {
                write_proc("/proc/self/setgroups", "deny");
                snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
                write_proc("/proc/self/uid_map", map);
                snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
                write_proc("/proc/self/gid_map", map);
            }
        }
        char opts[64];
        snprintf(opts, sizeof opts, "size=%s,mode=0777", size);
        if (strcmp(msg, "ok") == 0 && mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            snprintf(msg, sizeof msg, "making mounts private: %s", strerror(errno));
        if (strcmp(msg, "ok") == 0 && mount("tmpfs", mnt, "tmpfs", 0, opts) != 0)
            snprintf(msg, sizeof msg, "mount tmpfs: %s", strerror(errno));
        if (write(ready[1], msg, strlen(msg) + 1) < 0) _exit(1);
        char c;
        while (read(release[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    char msg[256] = "";
    ssize_t n = read(ready[0], msg, sizeof msg - 1);
    close(ready[0]);
    msg[n > 0 ? n : 0] = '\0';
    h->pid = pid;
    h->release = release[1];
    if (strcmp(msg, "ok") != 0) {
        snprintf(why, cap, "%s", msg[0] ? msg : "the namespace child died");
        close(h->release);
        waitpid(pid, NULL, 0);
        return false;
    }
    return true;
}

static void release_tmpfs(struct holder *h) {
    close(h->release);
    waitpid(h->pid, NULL, 0);
}

Test(disk_full, no_space_left_during_a_save_keeps_the_previous_checkpoint) {
    char *dir = th_tmpdir("diskfull");
    char *config = write_config(dir);
    char *ref = reference(dir, config);
    char mnt[4200];
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    cr_assert_eq(fs_mkdir_p(mnt), STATUS_OK);
    struct holder h;
    char why[300];
    /* One checkpoint is 1.03 MB: the first fits, the second runs out in its optimizer state. */
    if (!hold_tmpfs(mnt, "1900k", &h, why, sizeof why)) {
        fs_remove_tree(dir);
        cr_skip_test("no private tmpfs here (%s); the file-size-limit test covers the same path", why);
    }
    char run[4300];
    snprintf(run, sizeof run, "/proc/%ld/root%s/run", (long)h.pid, mnt);
    struct train_result r = train(config, run, NULL, 0);
    expect_previous_checkpoint_intact(run, ref, &r, "No space left on device");
    release_tmpfs(&h);
    fs_remove_tree(dir);
    free(dir);
    free(config);
    free(ref);
}
