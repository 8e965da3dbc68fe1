#!/bin/sh
# Builds a FAT16 disk image for the BareFlow QEMU image (firmware/qemu/main.c reads it):
# a 4 MiB volume without partition table (mkfs.fat -F 16, one sector per cluster: 8,000-odd
# clusters), the given files copied into its root directory under 8.3 names.
#
# Usage: firmware/qemu/mkdisk.sh IMAGE FILE=NAME...   e.g. out/fib.snap=FIB.SNP run.txt=RUN.TXT
# Needs mkfs.fat (Debian: dosfstools) and mcopy (mtools).
set -eu
PATH="$PATH:/usr/sbin:/sbin" # mkfs.fat's home on Debian, not always in a user's PATH
if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE FILE=NAME..." >&2
    exit 2
fi
img=$1
shift
rm -f "$img"
mkfs.fat --invariant -F 16 -s 1 -n BAREFLOW -i 0bf0f16d -C "$img" 4096 >/dev/null
for spec in "$@"; do
    src=${spec%=*}
    name=${spec##*=}
    MTOOLS_NO_VFAT=1 mcopy -o -i "$img" "$src" "::$name"
done
