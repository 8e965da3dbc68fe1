/* Writes to both streams, then exits with status 3 from a nested call. */
#include <stdio.h>
#include <stdlib.h>

static void leave(int depth) {
    if (depth == 0) {
        printf("exiting with 3\n");
        fprintf(stderr, "exit3: about to exit\n");
        exit(3);
    }
    leave(depth - 1);
}

int main(void) {
    printf("start\n");
    leave(10);
    printf("not reached\n");
    return 0;
}
