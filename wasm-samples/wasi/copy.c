/* Copies file argv[1] to argv[2] (paths relative to the current/granted directory), then
 * checks the copy, appends a line to it, makes and removes a directory, and lists the
 * directory sorted. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: copy SRC DST\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        fprintf(stderr, "copy: cannot open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "copy: cannot create %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    char buf[1000];
    size_t n, total = 0;
    unsigned long long sum = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        for (size_t i = 0; i < n; i++) sum = sum * 131 + (unsigned char)buf[i];
        if (fwrite(buf, 1, n, out) != n) {
            fprintf(stderr, "copy: write failed\n");
            return 1;
        }
        total += n;
    }
    fclose(in);
    fclose(out);
    printf("copied %zu bytes, checksum %llu\n", total, sum % 1000000007ULL);

    struct stat st;
    if (stat(argv[2], &st) != 0) return 1;
    printf("stat size %lld, regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode) ? 1 : 0);

    out = fopen(argv[2], "a");
    fprintf(out, "appended line\n");
    fclose(out);
    in = fopen(argv[2], "r");
    fseek(in, -14, SEEK_END);
    long pos = ftell(in);
    char tail[32] = {0};
    fgets(tail, sizeof tail, in);
    fclose(in);
    printf("tail at %ld: %s", pos, tail);

    if (mkdir("subdir", 0755) != 0) printf("mkdir failed: %s\n", strerror(errno));
    FILE *f = fopen("subdir/inner.txt", "w");
    fputs("inner\n", f);
    fclose(f);

    DIR *d = opendir(".");
    if (!d) return 1;
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 64) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, cmp);
    for (int i = 0; i < count; i++) printf("entry: %s\n", names[i]);

    printf("rmdir non-empty: %s\n", rmdir("subdir") == 0 ? "ok" : "failed");
    printf("unlink: %s\n", unlink("subdir/inner.txt") == 0 ? "ok" : "failed");
    printf("rmdir: %s\n", rmdir("subdir") == 0 ? "ok" : "failed");
    printf("open missing: %s\n", fopen("missing.txt", "r") ? "opened" : strerror(errno));
    return 0;
}
