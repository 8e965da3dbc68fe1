/* Tries to read and write outside the granted directory; every attempt must be refused.
 * Run with the sandbox as the granted directory "." containing inside.txt, a symlink
 * link_out -> ../secret and a symlink abs_link -> /etc/passwd; ../secret is a canary. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

static void try_read(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("read %s: refused\n", path);
        return;
    }
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    printf("read %s: GOT %zu bytes\n", path, n);
}

static void try_write(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        printf("create %s: refused\n", path);
        return;
    }
    write(fd, "escaped\n", 8);
    close(fd);
    printf("create %s: CREATED\n", path);
}

#ifdef __wasi__
/* The raw host call, bypassing wasi-libc's own preopen matching. */
static void raw_open(const char *path, int follow) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path,
                                        __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    printf("raw open %s: errno %d\n", path, e);
}
#endif

int main(void) {
    try_read("inside.txt");
    try_read("../secret");
    try_read("/etc/passwd");
    try_read("link_out");
    try_read("abs_link");
    try_read("sub/../../secret");
    try_read("./../secret");
    try_write("../created_outside.txt");
    try_write("/tmp/bareflow-escape-probe.txt");
    try_write("link_out_new/../../created_outside2.txt");
#ifdef __wasi__
    raw_open("../secret", 1);
    raw_open("/etc/passwd", 1);
    raw_open("link_out", 1);
    raw_open("abs_link", 1);
    raw_open("link_out", 0);
    raw_open("../created_outside3.txt", 1);
    __wasi_errno_t e = __wasi_path_unlink_file(3, "../secret");
    printf("raw unlink ../secret: errno %d\n", e);
    e = __wasi_path_rename(3, "inside.txt", 3, "../stolen.txt");
    printf("raw rename to ../stolen.txt: errno %d\n", e);
    e = __wasi_path_create_directory(3, "../newdir");
    printf("raw mkdir ../newdir: errno %d\n", e);
#endif
    return 0;
}
