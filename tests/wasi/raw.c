// A WASI test program in C that calls the wasi_snapshot_preview1 functions directly
// (through wasi-libc's <wasi/api.h> declarations), so every request reaches the host
// exactly as written: escape attempts, rights, layouts and error numbers. Driven by
// tests/wasi.rs, which prepares the directory preopened as fd 3:
//
//   inside.txt           "inside\n"
//   sub/                 empty directory
//   link_out             -> ../outside.txt      (leads out)
//   link_out_dir         -> ../outside          (leads out)
//   abs_link             -> /etc/passwd         (absolute)
//
// argv[1] is "rw" (read-write preopen) or "ro" (read-only). One line per check.
// Built by tests/wasi/build.sh into tests/wasi/raw.wasm.

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

// proc_raise is in the preview 1 ABI but no longer declared by wasi-libc.
__wasi_errno_t raw_proc_raise(uint32_t sig)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("proc_raise")));

#define PRE 3

static const char *name(__wasi_errno_t e) {
  switch (e) {
    case __WASI_ERRNO_SUCCESS: return "ok";
    case __WASI_ERRNO_ACCES: return "acces";
    case __WASI_ERRNO_BADF: return "badf";
    case __WASI_ERRNO_BUSY: return "busy";
    case __WASI_ERRNO_EXIST: return "exist";
    case __WASI_ERRNO_FAULT: return "fault";
    case __WASI_ERRNO_INVAL: return "inval";
    case __WASI_ERRNO_ISDIR: return "isdir";
    case __WASI_ERRNO_LOOP: return "loop";
    case __WASI_ERRNO_NAMETOOLONG: return "nametoolong";
    case __WASI_ERRNO_NOENT: return "noent";
    case __WASI_ERRNO_NOSYS: return "nosys";
    case __WASI_ERRNO_NOTDIR: return "notdir";
    case __WASI_ERRNO_NOTEMPTY: return "notempty";
    case __WASI_ERRNO_NOTSOCK: return "notsock";
    case __WASI_ERRNO_NOTSUP: return "notsup";
    case __WASI_ERRNO_PERM: return "perm";
    case __WASI_ERRNO_SPIPE: return "spipe";
    default: {
      static char buf[32];
      snprintf(buf, sizeof buf, "errno %u", (unsigned)e);
      return buf;
    }
  }
}

static void show(const char *label, __wasi_errno_t e) { printf("%s: %s\n", label, name(e)); }

static const __wasi_rights_t READ_RIGHTS =
    __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
    __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_POLL_FD_READWRITE;
static const __wasi_rights_t WRITE_RIGHTS =
    __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE;

static const __wasi_rights_t FILE_RIGHTS =
    READ_RIGHTS | WRITE_RIGHTS | __WASI_RIGHTS_FD_DATASYNC | __WASI_RIGHTS_FD_SYNC |
    __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS |
    __WASI_RIGHTS_FD_FILESTAT_SET_TIMES;

// Opens below the preopen following symbolic links, as open() without O_NOFOLLOW does.
static __wasi_errno_t open_at(const char *path, __wasi_oflags_t oflags, __wasi_rights_t rights,
                              __wasi_fd_t *fd) {
  return __wasi_path_open(PRE, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, rights, 0, 0, fd);
}

static void escapes(void) {
  const char *paths[] = {"..", "../outside.txt", "sub/../../outside.txt", "/etc/passwd",
                         "link_out", "link_out_dir/secret.txt", "abs_link", "sub/../inside.txt",
                         "missing.txt"};
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    __wasi_fd_t fd;
    __wasi_errno_t e = open_at(paths[i], 0, READ_RIGHTS, &fd);
    char label[80];
    snprintf(label, sizeof label, "open %s", paths[i]);
    show(label, e);
    if (e == 0) __wasi_fd_close(fd);
  }
  show("open link_out without following",
       __wasi_path_open(PRE, 0, "link_out", 0, READ_RIGHTS, 0, 0, &(__wasi_fd_t){0}));
  __wasi_filestat_t st;
  show("stat ..", __wasi_path_filestat_get(PRE, 0, "..", &st));
  __wasi_errno_t e = __wasi_path_filestat_get(PRE, 0, "link_out", &st);
  printf("lstat link_out: %s type %u\n", name(e), st.filetype);
  show("stat link_out (follow)",
       __wasi_path_filestat_get(PRE, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link_out", &st));
  uint8_t buf[64];
  __wasi_size_t used = 0;
  e = __wasi_path_readlink(PRE, "link_out", buf, sizeof buf, &used);
  printf("readlink link_out: %s \"%.*s\"\n", name(e), (int)used, buf);
  show("mkdir ..", __wasi_path_create_directory(PRE, ".."));
  show("mkdir ../x", __wasi_path_create_directory(PRE, "../x"));
  show("mkdir link_out_dir/x", __wasi_path_create_directory(PRE, "link_out_dir/x"));
  show("rmdir ..", __wasi_path_remove_directory(PRE, ".."));
  show("unlink ../outside.txt", __wasi_path_unlink_file(PRE, "../outside.txt"));
  show("unlink link_out_dir/secret.txt", __wasi_path_unlink_file(PRE, "link_out_dir/secret.txt"));
  show("rename inside.txt -> ../stolen", __wasi_path_rename(PRE, "inside.txt", PRE, "../stolen"));
  show("rename ../outside.txt -> got", __wasi_path_rename(PRE, "../outside.txt", PRE, "got"));
  show("link ../outside.txt -> got", __wasi_path_link(PRE, 0, "../outside.txt", PRE, "got"));
  show("symlink /etc/passwd", __wasi_path_symlink("/etc/passwd", PRE, "new_abs_link"));
  show("set times ..", __wasi_path_filestat_set_times(PRE, 0, "..", 0, 0,
                                                      __WASI_FSTFLAGS_MTIM_NOW));
}

static void files(void) {
  __wasi_fd_t fd;
  show("open inside.txt", open_at("inside.txt", 0, READ_RIGHTS, &fd));
  char buf[16] = {0};
  __wasi_iovec_t iov[2] = {{(uint8_t *)buf, 3}, {(uint8_t *)buf + 3, 10}};
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_fd_read(fd, iov, 2, &n);
  printf("read two iovecs: %s %u \"%.*s\"\n", name(e), (unsigned)n, (int)n, buf);
  __wasi_filesize_t pos = 99;
  e = __wasi_fd_seek(fd, -4, __WASI_WHENCE_END, &pos);
  printf("seek end-4: %s %llu\n", name(e), (unsigned long long)pos);
  e = __wasi_fd_tell(fd, &pos);
  printf("tell: %s %llu\n", name(e), (unsigned long long)pos);
  show("seek before start", __wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos));
  show("seek bad whence", __wasi_fd_seek(fd, 0, 7, &pos));
  memset(buf, 0, sizeof buf);
  __wasi_iovec_t one = {(uint8_t *)buf, 4};
  e = __wasi_fd_pread(fd, &one, 1, 2, &n);
  printf("pread at 2: %s \"%.*s\"\n", name(e), (int)n, buf);
  __wasi_ciovec_t out = {(const uint8_t *)"x", 1};
  show("write read-only fd", __wasi_fd_write(fd, &out, 1, &n));
  __wasi_filestat_t st;
  e = __wasi_fd_filestat_get(fd, &st);
  printf("filestat: %s type %u size %llu nlink %llu\n", name(e), st.filetype,
         (unsigned long long)st.size, (unsigned long long)st.nlink);
  __wasi_fdstat_t fs;
  e = __wasi_fd_fdstat_get(fd, &fs);
  printf("fdstat: %s type %u read %d write %d\n", name(e), fs.fs_filetype,
         (fs.fs_rights_base & __WASI_RIGHTS_FD_READ) != 0,
         (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
  show("gain rights", __wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base | __WASI_RIGHTS_FD_WRITE, 0));
  show("drop read right", __wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_SEEK, 0));
  show("read without right", __wasi_fd_read(fd, iov, 1, &n));

  // Renumber: onto an open descriptor only.
  __wasi_fd_t other;
  show("open sub", __wasi_path_open(PRE, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                                    __WASI_RIGHTS_FD_READDIR, 0, 0, &other));
  show("renumber to closed fd", __wasi_fd_renumber(fd, 40));
  show("renumber onto open fd", __wasi_fd_renumber(fd, other));
  show("old fd after renumber", __wasi_fd_close(fd));
  show("close renumbered", __wasi_fd_close(other));
  show("close again", __wasi_fd_close(other));

  // Bad pointers are `fault`, never a crash.
  show("random_get out of bounds", __wasi_random_get((uint8_t *)0xfffffff0, 100));
  __wasi_ciovec_t bad = {(const uint8_t *)0xfffffff0, 100};
  show("fd_write bad buffer", __wasi_fd_write(1, &bad, 1, &n));
  show("fd_write bad iovec array", __wasi_fd_write(1, (const __wasi_ciovec_t *)0xfffffffc, 1, &n));
}

static void directory(void) {
  __wasi_prestat_t pre;
  __wasi_errno_t e = __wasi_fd_prestat_get(PRE, &pre);
  char dirname[64] = {0};
  show("prestat", e);
  show("prestat dir name", __wasi_fd_prestat_dir_name(PRE, (uint8_t *)dirname, pre.u.dir.pr_name_len));
  printf("preopen name: %s (tag %u)\n", dirname, pre.tag);
  show("prestat of stdout", __wasi_fd_prestat_get(1, &pre));
  show("prestat past the end", __wasi_fd_prestat_get(PRE + 1, &pre));

  // fd_readdir: every entry once; a small buffer gets a truncated last entry.
  uint8_t buf[4096];
  __wasi_size_t used = 0;
  e = __wasi_fd_readdir(PRE, buf, sizeof buf, 0, &used);
  int seen_inside = 0, seen_sub = 0, seen_link = 0, count = 0;
  for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= used;) {
    __wasi_dirent_t d;
    memcpy(&d, buf + at, sizeof d);
    const char *n = (const char *)buf + at + sizeof d;
    if (d.d_namlen == 10 && !memcmp(n, "inside.txt", 10))
      seen_inside = d.d_type == __WASI_FILETYPE_REGULAR_FILE;
    if (d.d_namlen == 3 && !memcmp(n, "sub", 3)) seen_sub = d.d_type == __WASI_FILETYPE_DIRECTORY;
    if (d.d_namlen == 8 && !memcmp(n, "link_out", 8))
      seen_link = d.d_type == __WASI_FILETYPE_SYMBOLIC_LINK;
    count++;
    at += sizeof d + d.d_namlen;
  }
  printf("readdir: %s entries %d inside.txt %d sub %d link_out %d\n", name(e), count, seen_inside,
         seen_sub, seen_link);
  e = __wasi_fd_readdir(PRE, buf, 30, 0, &used);
  printf("readdir into 30 bytes: %s used %u\n", name(e), (unsigned)used);
  e = __wasi_fd_readdir(PRE, buf, sizeof buf, 1000, &used);
  printf("readdir past the end: %s used %u\n", name(e), (unsigned)used);
  show("readdir of a file", __wasi_fd_readdir(1, buf, sizeof buf, 0, &used));
}

static void mutations(void) {
  __wasi_fd_t fd;
  show("create new.txt", __wasi_path_open(PRE, 0, "new.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL,
                                          FILE_RIGHTS, 0, 0, &fd));
  show("create new.txt again (excl)",
       __wasi_path_open(PRE, 0, "new.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, READ_RIGHTS, 0,
                        0, &(__wasi_fd_t){0}));
  __wasi_ciovec_t out[2] = {{(const uint8_t *)"hello ", 6}, {(const uint8_t *)"wasi", 4}};
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_fd_write(fd, out, 2, &n);
  printf("write: %s %u\n", name(e), (unsigned)n);
  __wasi_ciovec_t patch = {(const uint8_t *)"W", 1};
  show("pwrite", __wasi_fd_pwrite(fd, &patch, 1, 6, &n));
  show("allocate", __wasi_fd_allocate(fd, 0, 16));
  __wasi_filestat_t st;
  __wasi_fd_filestat_get(fd, &st);
  printf("size after allocate: %llu\n", (unsigned long long)st.size);
  show("set size 10", __wasi_fd_filestat_set_size(fd, 10));
  show("set times", __wasi_fd_filestat_set_times(fd, 5000000000ull, 7000000000ull,
                                                 __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
  show("set times both now and value",
       __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
  __wasi_fd_filestat_get(fd, &st);
  printf("stat: size %llu atim %llu mtim %llu\n", (unsigned long long)st.size,
         (unsigned long long)st.atim, (unsigned long long)st.mtim);
  show("datasync", __wasi_fd_datasync(fd));
  show("sync", __wasi_fd_sync(fd));
  show("advise", __wasi_fd_advise(fd, 0, 0, __WASI_ADVICE_SEQUENTIAL));
  show("set append flag", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
  __wasi_fdstat_t fs;
  __wasi_fd_fdstat_get(fd, &fs);
  printf("append flag: %d\n", (fs.fs_flags & __WASI_FDFLAGS_APPEND) != 0);
  __wasi_fd_write(fd, &patch, 1, &n);
  char buf[32] = {0};
  __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};
  __wasi_fd_pread(fd, &in, 1, 0, &n);
  printf("content: \"%.*s\"\n", (int)n, buf);
  show("close", __wasi_fd_close(fd));

  show("mkdir d", __wasi_path_create_directory(PRE, "d"));
  show("mkdir d again", __wasi_path_create_directory(PRE, "d"));
  show("mkdir .", __wasi_path_create_directory(PRE, "."));
  show("rename new.txt -> d/moved.txt", __wasi_path_rename(PRE, "new.txt", PRE, "d/moved.txt"));
  show("link d/moved.txt -> d/linked.txt", __wasi_path_link(PRE, 0, "d/moved.txt", PRE, "d/linked.txt"));
  show("symlink moved.txt -> d/sym", __wasi_path_symlink("moved.txt", PRE, "d/sym"));
  uint8_t target[32];
  e = __wasi_path_readlink(PRE, "d/sym", target, 4, &n);
  printf("readlink into 4 bytes: %s \"%.*s\"\n", name(e), (int)n, target);
  show("readlink of a file", __wasi_path_readlink(PRE, "d/moved.txt", target, 32, &n));
  show("rmdir non-empty", __wasi_path_remove_directory(PRE, "d"));
  show("rmdir a file", __wasi_path_remove_directory(PRE, "d/moved.txt"));
  show("unlink a directory", __wasi_path_unlink_file(PRE, "d"));
  show("unlink with trailing slash", __wasi_path_unlink_file(PRE, "d/moved.txt/"));
  show("unlink d/sym", __wasi_path_unlink_file(PRE, "d/sym"));
  show("unlink d/linked.txt", __wasi_path_unlink_file(PRE, "d/linked.txt"));
  show("unlink d/moved.txt", __wasi_path_unlink_file(PRE, "d/moved.txt"));
  show("unlink missing", __wasi_path_unlink_file(PRE, "d/moved.txt"));
  show("rmdir d/", __wasi_path_remove_directory(PRE, "d/"));
  show("rmdir .", __wasi_path_remove_directory(PRE, "."));
  show("open with empty path", __wasi_path_open(PRE, 0, "", 0, READ_RIGHTS, 0, 0, &fd));
}

static void read_only(void) {
  __wasi_fd_t fd;
  show("create", __wasi_path_open(PRE, 0, "new.txt", __WASI_OFLAGS_CREAT, READ_RIGHTS, 0, 0, &fd));
  show("open for writing", open_at("inside.txt", 0, READ_RIGHTS | WRITE_RIGHTS, &fd));
  show("truncate", open_at("inside.txt", __WASI_OFLAGS_TRUNC, READ_RIGHTS, &fd));
  show("open append", __wasi_path_open(PRE, 0, "inside.txt", 0, READ_RIGHTS, 0,
                                       __WASI_FDFLAGS_APPEND, &fd));
  show("mkdir", __wasi_path_create_directory(PRE, "d"));
  show("unlink", __wasi_path_unlink_file(PRE, "inside.txt"));
  show("rmdir", __wasi_path_remove_directory(PRE, "sub"));
  show("rename", __wasi_path_rename(PRE, "inside.txt", PRE, "x.txt"));
  show("symlink", __wasi_path_symlink("inside.txt", PRE, "s"));
  show("link", __wasi_path_link(PRE, 0, "inside.txt", PRE, "l"));
  show("set times", __wasi_path_filestat_set_times(PRE, 0, "inside.txt", 0, 0,
                                                   __WASI_FSTFLAGS_MTIM_NOW));
  show("open for reading", open_at("inside.txt", 0, READ_RIGHTS, &fd));
  __wasi_fdstat_t fs;
  __wasi_fd_fdstat_get(fd, &fs);
  printf("file rights: write %d set size %d\n", (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0,
         (fs.fs_rights_base & __WASI_RIGHTS_FD_FILESTAT_SET_SIZE) != 0);
  __wasi_size_t n;
  __wasi_ciovec_t out = {(const uint8_t *)"x", 1};
  show("write", __wasi_fd_write(fd, &out, 1, &n));
  show("set size", __wasi_fd_filestat_set_size(fd, 0));
  show("set times on fd", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
  show("allocate", __wasi_fd_allocate(fd, 0, 100));
  char buf[16];
  __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf};
  __wasi_errno_t e = __wasi_fd_read(fd, &in, 1, &n);
  printf("read: %s \"%.*s\"\n", name(e), (int)n - 1, buf);
  __wasi_fd_close(fd);
}

static void misc(void) {
  // poll_oneoff: a ready file read completes at once, before a 10 s timeout.
  __wasi_fd_t fd;
  open_at("inside.txt", 0, READ_RIGHTS, &fd);
  __wasi_subscription_t subs[3];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 11;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 10000000000ull;
  subs[1].userdata = 22;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[1].u.u.fd_read.file_descriptor = fd;
  subs[2].userdata = 33;
  subs[2].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  subs[2].u.u.fd_write.file_descriptor = 77;
  __wasi_event_t events[3];
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(subs, events, 3, &n);
  printf("poll: %s %u events\n", name(e), (unsigned)n);
  for (__wasi_size_t i = 0; i < n; i++)
    printf("  event userdata %llu type %u error %s nbytes %llu\n",
           (unsigned long long)events[i].userdata, events[i].type, name(events[i].error),
           (unsigned long long)events[i].fd_readwrite.nbytes);
  __wasi_fd_close(fd);

  // A clock alone waits. Absolute deadline on the monotonic clock, 30 ms ahead.
  __wasi_timestamp_t t0, t1;
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0);
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 44;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = t0 + 30000000;
  subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
  e = __wasi_poll_oneoff(subs, events, 1, &n);
  __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1);
  printf("poll clock: %s %u events userdata %llu type %u waited >= 30ms %d\n", name(e), (unsigned)n,
         (unsigned long long)events[0].userdata, events[0].type, t1 - t0 >= 30000000);
  show("poll nothing", __wasi_poll_oneoff(subs, events, 0, &n));

  __wasi_timestamp_t res = 0;
  e = __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res);
  printf("clock res: %s positive %d\n", name(e), res > 0);
  show("clock bad id", __wasi_clock_time_get(99, 1, &t0));

  show("sock_accept", __wasi_sock_accept(PRE, 0, &fd));
  show("sock_shutdown bad fd", __wasi_sock_shutdown(99, __WASI_SDFLAGS_RD));
  __wasi_size_t got;
  __wasi_roflags_t roflags;
  show("sock_recv", __wasi_sock_recv(0, 0, 0, 0, &got, &roflags));
  show("sock_send", __wasi_sock_send(1, 0, 0, 0, &got));
  show("proc_raise", raw_proc_raise(6));
  show("sched_yield", __wasi_sched_yield());

  __wasi_fdstat_t fs;
  e = __wasi_fd_fdstat_get(1, &fs);
  printf("stdout fdstat: %s seek %d write %d\n", name(e),
         (fs.fs_rights_base & __WASI_RIGHTS_FD_SEEK) != 0,
         (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0);
  __wasi_filesize_t pos;
  show("seek stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_SET, &pos));
  show("close preopen", __wasi_fd_close(PRE));
  show("open after closing preopen", open_at("inside.txt", 0, READ_RIGHTS, &fd));
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(mode, "rw")) {
    escapes();
    files();
    directory();
    mutations();
    misc();
  } else if (!strcmp(mode, "ro")) {
    read_only();
  } else {
    printf("usage: raw rw|ro\n");
    return 2;
  }
  return 0;
}
