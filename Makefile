# SPDX-License-Identifier: GPL-2.0
#
# dm-vdisk: the kernel module (through Kbuild) and the vdisk helper.
#
#   make                 module and helper
#   make check           every test (installs what it needs from Debian)
#   make demo            build, boot a QEMU guest, map a sample VMDK
#   make fuzz-kernel     fuzz the kernel path in a debug-kernel guest
#   make install DESTDIR=...
#   make deb             a Debian package (helper, man page, DKMS source)
#
# KVER/KDIR select the kernel to build for; by default the running kernel,
# or the newest one under /lib/modules with a build tree.

# The version is the Debian changelog's (one place); empty in the DKMS copy.
VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)

ifeq ($(origin KVER),undefined)
  ifneq ($(KDIR),)
    KVER := $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
  else ifneq ($(wildcard /lib/modules/$(shell uname -r)/build),)
    KVER := $(shell uname -r)
  else
    KVER := $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1 | cut -d/ -f4)
  endif
endif
KDIR ?= /lib/modules/$(KVER)/build

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
VD_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -DVDISK_VERSION='"$(VERSION)"' \
	-D'__packed=__attribute__((__packed__))' \
	-D'__printf(a,b)=__attribute__((format(printf,a,b)))' \
	-D'fallthrough=__attribute__((__fallthrough__))' -Idm-vdisk/core -Itools

CORE_SRCS := $(wildcard dm-vdisk/core/*.c)
CORE_HDRS := $(wildcard dm-vdisk/core/*.h)
TOOL_SRCS := $(filter-out tools/vdisk.c,$(wildcard tools/*.c))
TOOL_HDRS := $(wildcard tools/*.h)
LIBS := -lz -lzstd
UNIT_TESTS := $(patsubst %.c,%,$(wildcard tests/unit/test_*.c))

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

.PHONY: all module module-clean helper static unit check demo bench fuzz fuzz-kernel install \
	clean deps deb

all: module helper

module:
	@test -d "$(KDIR)" || { echo "make: no kernel build tree at '$(KDIR)' (install linux-headers, or set KDIR=)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-clean:
	if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi

helper: tools/vdisk
static: tools/vdisk-static
unit: $(UNIT_TESTS) tests/tools/vdisk-read

tools/vdisk: tools/vdisk.c $(TOOL_SRCS) $(CORE_SRCS) $(TOOL_HDRS) $(CORE_HDRS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(VD_CFLAGS) $(LDFLAGS) -o $@ tools/vdisk.c $(TOOL_SRCS) $(CORE_SRCS) $(LIBS)

tools/vdisk-static: tools/vdisk.c $(TOOL_SRCS) $(CORE_SRCS) $(TOOL_HDRS) $(CORE_HDRS)
	$(CC) $(CFLAGS) $(VD_CFLAGS) -static -o $@ tools/vdisk.c $(TOOL_SRCS) $(CORE_SRCS) $(LIBS)

tests/unit/test_%: tests/unit/test_%.c tests/unit/tap.h $(CORE_SRCS) $(CORE_HDRS)
	$(CC) $(CFLAGS) $(VD_CFLAGS) -Itests/unit -fsanitize=address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(CORE_SRCS) $(LIBS)

# make bench's guest measures its own inflate rate with the core's code.
tests/bench/inflate-rate: tests/bench/inflate-rate.c $(CORE_SRCS) $(CORE_HDRS)
	$(CC) $(CFLAGS) $(VD_CFLAGS) -static -pthread -o $@ $< dm-vdisk/core/vdisk_inflate.c $(LIBS)

tests/tools/vdisk-read: tests/tools/vdisk-read.c $(TOOL_SRCS) $(CORE_SRCS) $(TOOL_HDRS) $(CORE_HDRS)
	$(CC) $(CFLAGS) $(VD_CFLAGS) -o $@ $< $(TOOL_SRCS) $(CORE_SRCS) $(LIBS)

deps:
	tests/install-deps.sh

check:
	tests/install-deps.sh
	$(MAKE) all static unit
	tests/run-tests.sh

fuzz:
	tests/install-deps.sh
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/fuzz/run.sh

# The kernel path in the debug guest: FUZZ_KERNEL_SECONDS per format,
# FUZZ_KERNEL_FORMATS (comma-separated), FUZZ_KERNEL_SEED; findings land in
# tests/fuzz/kernel-regress/ (see tests/fuzz/kernel/run.sh).
fuzz-kernel:
	tests/install-deps.sh
	FUZZ_KERNEL_SECONDS=$${FUZZ_KERNEL_SECONDS:-1200} tests/fuzz/kernel/run.sh

bench:
	tests/install-deps.sh
	$(MAKE) all static tests/bench/inflate-rate
	tests/bench/bench.sh

demo:
	tests/install-deps.sh
	$(MAKE) all static
	tests/demo.sh

install: all
	install -D -m 644 dm-vdisk/dm-vdisk.ko $(DESTDIR)/lib/modules/$(KVER)/updates/dm-vdisk.ko
	install -D -m 755 tools/vdisk $(DESTDIR)$(SBINDIR)/vdisk
	install -D -m 644 Documentation/vdisk.8 $(DESTDIR)$(MANDIR)/man8/vdisk.8
	install -D -m 644 packaging/bash-completion/vdisk \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/vdisk
	install -D -m 755 packaging/initramfs-tools/hooks/vdisk \
		$(DESTDIR)$(PREFIX)/share/initramfs-tools/hooks/vdisk
	install -D -m 755 packaging/initramfs-tools/scripts/local-top/vdisk \
		$(DESTDIR)$(PREFIX)/share/initramfs-tools/scripts/local-top/vdisk
	for f in module-setup.sh parse-vdisk.sh vdisk-root.sh; do \
		install -D -m 755 packaging/dracut/90vdisk/$$f \
			$(DESTDIR)$(PREFIX)/lib/dracut/modules.d/90vdisk/$$f; done
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

# A .deb with the helper, the man page and the module source for DKMS.
deb:
	packaging/mkdeb.sh tests/out/deb

clean: module-clean
	rm -f tools/vdisk tools/vdisk-static $(UNIT_TESTS) tests/tools/vdisk-read
	rm -rf tests/out
