/* ATA PIO on the primary IDE bus and a bounds-checked FAT16 reader: disk.h. */
#include "disk.h"

/* ---- ATA PIO (primary bus: command block 0x1f0-0x1f7, control 0x3f6) ------------------- */
#define ATA_DATA 0x1f0
#define ATA_ERROR 0x1f1
#define ATA_COUNT 0x1f2
#define ATA_LBA0 0x1f3
#define ATA_LBA1 0x1f4
#define ATA_LBA2 0x1f5
#define ATA_DRIVE 0x1f6
#define ATA_CMD 0x1f7 /* status when read */
#define ATA_CTRL 0x3f6 /* alternate status when read */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DF 0x20
#define ST_BSY 0x80
#define CMD_READ_SECTORS 0x20
#define CMD_IDENTIFY 0xec
/* Status polls before a command is given up (QEMU answers within a few). */
#define POLLS 1000000u

static inline void outb(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port) {
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t ata_sectors;

/* Waits until the drive is not busy; then requires DRQ (data ready) when `drq`. */
static const char *ata_wait(int drq) {
    /* Four reads of the alternate status: the 400 ns the drive may take to raise BSY. */
    for (int i = 0; i < 4; i++) (void)inb(ATA_CTRL);
    for (uint32_t i = 0; i < POLLS; i++) {
        uint8_t st = inb(ATA_CMD);
        if (st == 0xff) return "no ATA drive (floating bus)";
        if (st & ST_BSY) continue;
        if (st & (ST_ERR | ST_DF)) return "ATA command failed (status ERR/DF)";
        if (!drq || (st & ST_DRQ)) return 0;
    }
    return "ATA drive timed out";
}

static void ata_read_words(uint8_t *buf) {
    for (int i = 0; i < 256; i++) {
        uint16_t w = inw(ATA_DATA);
        buf[2 * i] = (uint8_t)w;
        buf[2 * i + 1] = (uint8_t)(w >> 8);
    }
}

const char *ata_init(uint32_t *sectors) {
    uint8_t id[512];
    outb(ATA_CTRL, 0x02); /* nIEN: no interrupts (they stay disabled anyway) */
    if (inb(ATA_CMD) == 0xff) return "no ATA drive (floating bus)";
    outb(ATA_DRIVE, 0xa0); /* master */
    outb(ATA_COUNT, 0);
    outb(ATA_LBA0, 0);
    outb(ATA_LBA1, 0);
    outb(ATA_LBA2, 0);
    outb(ATA_CMD, CMD_IDENTIFY);
    if (inb(ATA_CMD) == 0) return "no ATA drive on the primary bus";
    const char *e = ata_wait(0);
    if (e) return e;
    if (inb(ATA_LBA1) || inb(ATA_LBA2)) return "primary master is not an ATA disk (ATAPI?)";
    e = ata_wait(1);
    if (e) return e;
    ata_read_words(id);
    /* Words 60-61: sectors addressable with LBA28. */
    ata_sectors = (uint32_t)id[120] | (uint32_t)id[121] << 8 | (uint32_t)id[122] << 16 |
                  (uint32_t)id[123] << 24;
    if (ata_sectors == 0) return "ATA disk without LBA";
    *sectors = ata_sectors;
    return 0;
}

const char *ata_read(uint32_t lba, uint8_t buf[512]) {
    if (lba >= ata_sectors || lba >= (1u << 28)) return "sector past the end of the disk";
    const char *e = ata_wait(0);
    if (e) return e;
    outb(ATA_DRIVE, (uint8_t)(0xe0 | ((lba >> 24) & 0x0f))); /* master, LBA */
    outb(ATA_COUNT, 1);
    outb(ATA_LBA0, (uint8_t)lba);
    outb(ATA_LBA1, (uint8_t)(lba >> 8));
    outb(ATA_LBA2, (uint8_t)(lba >> 16));
    outb(ATA_CMD, CMD_READ_SECTORS);
    e = ata_wait(1);
    if (e) return e;
    ata_read_words(buf);
    return 0;
}

/* ---- FAT16 ------------------------------------------------------------------------------ */
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sector[512];

/* Validates the BPB in `b` for a volume starting at `part` on a disk of `disk` sectors. */
static const char *bpb(struct fat16 *fs, const uint8_t *b, uint32_t part, uint32_t disk) {
    if (b[510] != 0x55 || b[511] != 0xaa) return "bad BPB: no boot signature 0x55 0xaa";
    if (le16(b + 11) != 512) return "bad BPB: bytes per sector is not 512";
    uint32_t spc = b[13];
    if (spc == 0 || spc > 128 || (spc & (spc - 1)))
        return "bad BPB: sectors per cluster is not a power of two up to 128";
    uint32_t reserved = le16(b + 14), nfats = b[16], root = le16(b + 17);
    uint32_t total = le16(b + 19) ? le16(b + 19) : le32(b + 32), fatsz = le16(b + 22);
    if (reserved == 0) return "bad BPB: no reserved sector";
    if (nfats == 0 || nfats > 2) return "bad BPB: number of FATs is not 1 or 2";
    if (root == 0 || root % 16) return "bad BPB: root entries not a nonzero multiple of 16";
    if (fatsz == 0) return "bad BPB: FAT size 0 (FAT32 is not supported)";
    if (total == 0 || total > disk - part) return "bad BPB: volume larger than the disk";
    uint32_t meta = reserved + nfats * fatsz + root / 16;
    if (meta >= total) return "bad BPB: no data region";
    uint32_t clusters = (total - meta) / spc;
    if (clusters < 4085 || clusters > 65524)
        return "bad BPB: cluster count outside FAT16's 4085..65524";
    if (fatsz * 256 < clusters + 2) return "bad BPB: FAT too small for the cluster count";
    fs->disk_sectors = disk;
    fs->part_lba = part;
    fs->sectors = total;
    fs->fat_lba = part + reserved;
    fs->fat_sectors = fatsz;
    fs->root_lba = part + reserved + nfats * fatsz;
    fs->root_entries = root;
    fs->data_lba = part + meta;
    fs->cluster_sectors = spc;
    fs->clusters = clusters;
    return 0;
}

const char *fat16_mount(struct fat16 *fs, uint32_t disk_sectors) {
    const char *e = ata_read(0, sector);
    if (e) return e;
    const char *bad = bpb(fs, sector, 0, disk_sectors);
    if (!bad) return 0;
    /* Not a volume: an MBR whose first FAT16 partition (type 0x04, 0x06 or 0x0e) holds one? */
    if (sector[510] != 0x55 || sector[511] != 0xaa) return bad;
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = sector + 446 + 16 * i;
        if (p[4] != 0x04 && p[4] != 0x06 && p[4] != 0x0e) continue;
        uint32_t start = le32(p + 8);
        if (start == 0 || start >= disk_sectors) return "MBR partition starts past the disk";
        e = ata_read(start, sector);
        if (e) return e;
        return bpb(fs, sector, start, disk_sectors);
    }
    return bad;
}

const char *fat16_list(const struct fat16 *fs, int (*f)(const struct fat16_file *, void *),
                       void *ctx) {
    for (uint32_t s = 0; s < fs->root_entries / 16; s++) {
        const char *e = ata_read(fs->root_lba + s, sector);
        if (e) return e;
        for (int i = 0; i < 16; i++) {
            const uint8_t *d = sector + 32 * i;
            if (d[0] == 0x00) return 0; /* end of the directory */
            if (d[0] == 0xe5) continue; /* deleted */
            uint8_t attr = d[11];
            if ((attr & 0x0f) == 0x0f || (attr & 0x18)) continue; /* long name, label, dir */
            struct fat16_file file;
            int n = 0;
            for (int j = 0; j < 11; j++) {
                if (j == 8) {
                    while (n > 0 && file.name[n - 1] == ' ') n--;
                    if (d[8] != ' ') file.name[n++] = '.';
                }
                uint8_t c = d[j];
                if (j == 0 && c == 0x05) c = 0xe5; /* the escape for a leading 0xe5 */
                file.name[n++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
            }
            while (n > 0 && file.name[n - 1] == ' ') n--;
            file.name[n] = 0;
            file.cluster = le16(d + 26);
            file.size = le32(d + 28);
            if (f(&file, ctx)) return 0;
        }
    }
    return 0;
}

uint32_t fat16_bad_cluster;

/* One bit per cluster number: the clusters a chain has visited (65,536 of them at most). */
static uint8_t visited[65536 / 8];
static uint8_t fat_sector[512];
static uint32_t fat_cached; /* LBA of fat_sector, 0 for none (sector 0 is never in a FAT) */

static const char *fat_entry(const struct fat16 *fs, uint32_t c, uint32_t *next) {
    uint32_t lba = fs->fat_lba + c / 256; /* fat16_mount checked fat_sectors * 256 >= c + 1 */
    if (lba != fat_cached) {
        fat_cached = 0;
        const char *e = ata_read(lba, fat_sector);
        if (e) return e;
        fat_cached = lba;
    }
    *next = le16(fat_sector + 2 * (c % 256));
    return 0;
}

/* Walks the chain (and copies the data into buf when it is not NULL). The loop runs at most
 * `need` times, and need <= the cluster count. */
static const char *walk(const struct fat16 *fs, const struct fat16_file *file, uint8_t *buf,
                        size_t cap) {
    uint32_t csize = fs->cluster_sectors * 512, c = file->cluster;
    uint64_t need = ((uint64_t)file->size + csize - 1) / csize;
    fat16_bad_cluster = c;
    if (need == 0) return c ? "empty file with a cluster chain" : 0;
    if (need > fs->clusters) return "file size past the disk";
    if (buf && file->size > cap) return "file larger than the snapshot buffer";
    for (uint32_t i = 0; i < sizeof visited; i++) visited[i] = 0;
    for (uint64_t i = 0; i < need; i++) {
        fat16_bad_cluster = c;
        if (c >= 0xfff8) return "file size past the end of its cluster chain";
        if (c == 0xfff7) return "bad cluster (0xfff7) in the chain";
        if (c < 2) return "free or reserved cluster (0 or 1) in the chain";
        if (c > fs->clusters + 1) return "cluster number out of range";
        if (visited[c / 8] & (1u << (c % 8))) return "cluster chain loop";
        visited[c / 8] |= (uint8_t)(1u << (c % 8));
        if (buf) {
            uint32_t lba = fs->data_lba + (c - 2) * fs->cluster_sectors;
            for (uint32_t s = 0; s < fs->cluster_sectors; s++) {
                uint64_t off = i * csize + (uint64_t)s * 512;
                if (off >= file->size) break;
                const char *e = ata_read(lba + s, sector);
                if (e) return e;
                uint64_t n = file->size - off < 512 ? file->size - off : 512;
                for (uint64_t k = 0; k < n; k++) buf[off + k] = sector[k];
            }
        }
        const char *e = fat_entry(fs, c, &c);
        if (e) return e;
    }
    fat16_bad_cluster = c;
    if (c < 0xfff8) {
        if (c >= 2 && c <= fs->clusters + 1 && (visited[c / 8] & (1u << (c % 8))))
            return "cluster chain loop";
        return "cluster chain longer than the file size";
    }
    return 0;
}

const char *fat16_check(const struct fat16 *fs, const struct fat16_file *file) {
    return walk(fs, file, NULL, 0);
}

const char *fat16_read(const struct fat16 *fs, const struct fat16_file *file, uint8_t *buf,
                       size_t cap) {
    return walk(fs, file, buf, cap);
}
