/* Echoes its arguments (argv[1..]), its whole environment and a summary of stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc - 1);
    for (int i = 1; i < argc; i++) printf("arg %d: [%s]\n", i, argv[i]);
    int n = 0;
    while (environ && environ[n]) n++;
    char **env = malloc((n + 1) * sizeof *env);
    for (int i = 0; i < n; i++) env[i] = environ[i];
    qsort(env, n, sizeof *env, cmp);
    printf("env count=%d\n", n);
    for (int i = 0; i < n; i++) printf("env: %s\n", env[i]);
    const char *home = getenv("HOME");
    printf("HOME is %s\n", home ? home : "(unset)");
    unsigned long long bytes = 0, lines = 0, sum = 0;
    int c;
    while ((c = getchar()) != EOF) {
        bytes++;
        sum = sum * 31 + (unsigned char)c;
        if (c == '\n') lines++;
    }
    printf("stdin: %llu bytes, %llu lines, hash %llu\n", bytes, lines, sum % 1000000007ULL);
    fprintf(stderr, "echo: done\n");
    return 0;
}
