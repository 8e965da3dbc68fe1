/* The disk side of the BareFlow QEMU image: an ATA PIO driver (primary IDE bus, LBA28) and a
 * small, bounds-checked FAT16 reader (boot sector, root directory, cluster chains, 8.3 names).
 * Every function returns 0 or a static message saying why it refused; no loop runs longer than
 * the cluster count, the root directory's size or a fixed poll budget. */
#ifndef BAREFLOW_QEMU_DISK_H
#define BAREFLOW_QEMU_DISK_H

#include <stddef.h>
#include <stdint.h>

/* Finds the primary master (IDENTIFY); sets *sectors to its LBA28 sector count. */
const char *ata_init(uint32_t *sectors);
/* Reads sector `lba` (512 bytes) into buf. */
const char *ata_read(uint32_t lba, uint8_t buf[512]);

struct fat16 {
    uint32_t disk_sectors;  /* the device's size, from IDENTIFY */
    uint32_t part_lba;      /* 0, or the start of the MBR partition holding the volume */
    uint32_t sectors;       /* the volume's sector count (BPB) */
    uint32_t fat_lba;       /* first sector of the first FAT */
    uint32_t fat_sectors;   /* sectors per FAT */
    uint32_t root_lba;      /* first sector of the root directory */
    uint32_t root_entries;  /* entries in the root directory */
    uint32_t data_lba;      /* first sector of cluster 2 */
    uint32_t cluster_sectors;
    uint32_t clusters;      /* data clusters: valid cluster numbers are 2 .. clusters + 1 */
};

/* A root directory entry: a regular file with an 8.3 name. */
struct fat16_file {
    char name[13];  /* "NAME.EXT", NUL-terminated, printable ASCII */
    uint16_t cluster;
    uint32_t size;
};

/* Validates the boot sector (or the first FAT partition of an MBR) and its BPB. */
const char *fat16_mount(struct fat16 *fs, uint32_t disk_sectors);
/* Calls f(file, ctx) for every regular file of the root directory, in directory order, and
 * stops at the first nonzero return (deleted entries, long-name parts, directories and the
 * volume label are skipped). */
const char *fat16_list(const struct fat16 *fs, int (*f)(const struct fat16_file *, void *),
                       void *ctx);
/* Follows the file's cluster chain without reading its data: every cluster in range, no bad
 * or free cluster, no loop, and exactly as many clusters as its size needs. */
const char *fat16_check(const struct fat16 *fs, const struct fat16_file *file);
/* Reads the whole file into buf (cap bytes), checking the chain as fat16_check does. */
const char *fat16_read(const struct fat16 *fs, const struct fat16_file *file, uint8_t *buf,
                       size_t cap);

/* The cluster where the last fat16_check / fat16_read stopped, for messages. */
extern uint32_t fat16_bad_cluster;

#endif
