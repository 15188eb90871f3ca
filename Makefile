# keyward — build, run, test.
#
#   make              builds src/keyward
#   make run          installs missing packages (as root), builds, serves on 127.0.0.1:11371, data in ./var
#   make check        installs missing packages, builds, runs t/ with prove, then again under ASan+UBSan
#   make check SAN=1  only the sanitizer pass
#   make install      PREFIX=/usr/local DESTDIR=
#
# Objects of the normal build live beside the sources (src/*.o, t/bin/);
# the sanitizer build lives in build/san/ so both can coexist.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
PKGS     = libevent libevent_pthreads libevent_openssl openssl gpgme kyotocabinet jansson zlib libgcrypt libqrencode libpng libcrypt

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT      ?= -O2
WARN      = -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter
KW_CFLAGS = -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) -pthread -iquote src $(PKG_CFLAGS) $(CFLAGS)
KW_LIBS   = $(PKG_LIBS) -pthread -lm

ifeq ($(FUZZ),1)
O         = build/fuzz
TBIN      = build/fuzz
CC        = clang
OPT       = -O1
KW_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
KW_LIBS   += -fsanitize=address,undefined
else ifeq ($(SAN),1)
O         = build/san
TBIN      = build/san/t
OPT       = -O1
KW_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
KW_LIBS   += -fsanitize=address,undefined
else
O         = src
TBIN      = t/bin
endif

LIB_SRC  := $(filter-out src/main.c src/www.c src/ldapschema.c,$(wildcard src/*.c))
LIB_OBJ  := $(patsubst src/%.c,$(O)/%.o,$(LIB_SRC)) $(O)/www.o $(O)/ldapschema.o
WWW      := $(sort $(wildcard www/*.html www/*.css www/*.js www/*.svg))
UNIT_SRC := $(wildcard t/unit/*.c)
UNIT_BIN := $(patsubst t/unit/%.c,$(TBIN)/%,$(UNIT_SRC))
HDRS     := $(wildcard src/*.h) t/unit/tap.h t/unit/keyfix.h
FUZZ_NAMES := $(patsubst t/fuzz/fuzz-%.c,%,$(wildcard t/fuzz/fuzz-*.c))
FUZZ_REPLAY := $(patsubst %,$(TBIN)/fuzz-%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 60

.PHONY: all deps run check check-one tests clean install fuzz fuzz-build bench bench-sched bench-reconfirm
all: $(O)/keyward

$(O)/%.o: src/%.c $(HDRS)
	@mkdir -p $(O)
	$(CC) $(KW_CFLAGS) -c -o $@ $<

$(O)/www.c: $(WWW) contrib/embed-www.sh
	@mkdir -p $(O)
	sh contrib/embed-www.sh $(WWW) > $@

$(O)/www.o: $(O)/www.c src/tmpl.h
	$(CC) $(KW_CFLAGS) -c -o $@ $<

# The GnuPG keyserver schema for the slapd that --ldap-listen runs (src/slapd.c).
$(O)/ldapschema.c: contrib/gnupg-ldap.schema contrib/embed-text.sh
	@mkdir -p $(O)
	sh contrib/embed-text.sh kw_ldap_schema contrib/gnupg-ldap.schema > $@

$(O)/ldapschema.o: $(O)/ldapschema.c
	$(CC) $(KW_CFLAGS) -c -o $@ $<

$(O)/libkw.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(O)/keyward: $(O)/main.o $(O)/libkw.a
	$(CC) -o $@ $^ $(KW_LIBS)

$(TBIN)/%: t/unit/%.c $(O)/libkw.a $(HDRS)
	@mkdir -p $(TBIN)
	$(CC) $(KW_CFLAGS) -It/unit -o $@ $< $(O)/libkw.a $(KW_LIBS)

# Fuzz targets: linked with t/fuzz/replay.c they replay their corpus in make check; with FUZZ=1
# (make fuzz) they are libFuzzer binaries.
ifeq ($(FUZZ),1)
$(TBIN)/fuzz-%: t/fuzz/fuzz-%.c $(O)/libkw.a $(HDRS)
	$(CC) $(KW_CFLAGS) -fsanitize=fuzzer -iquote src -o $@ $< $(O)/libkw.a $(KW_LIBS)
else
$(TBIN)/fuzz-%: t/fuzz/fuzz-%.c t/fuzz/replay.c $(O)/libkw.a $(HDRS)
	@mkdir -p $(TBIN)
	$(CC) $(KW_CFLAGS) -o $@ $< t/fuzz/replay.c $(O)/libkw.a $(KW_LIBS)
endif

tests: $(O)/keyward $(UNIT_BIN) $(FUZZ_REPLAY)

# libFuzzer on every target for FUZZ_SECONDS each (clang from Debian). New inputs go to
# build/fuzz/corpus-NAME; the summary of each run to build/fuzz/NAME.log.
fuzz:
	$(MAKE) FUZZ=1 fuzz-build
	@for t in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus-$$t && cp t/fuzz/corpus/$$t/* build/fuzz/corpus-$$t/ 2>/dev/null; \
		echo "== fuzz-$$t ($(FUZZ_SECONDS) s)"; \
		build/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
			build/fuzz/corpus-$$t > build/fuzz/$$t.log 2>&1; st=$$?; \
		grep -E 'number_of_executed_units|new_units_added|ERROR|SUMMARY' build/fuzz/$$t.log; \
		[ $$st -eq 0 ] || exit $$st; \
	done

fuzz-build: $(FUZZ_REPLAY)


deps:
	@sh contrib/install-deps.sh
	@sh contrib/install-browser.sh

run: deps
	$(MAKE) all
	mkdir -p var
	./src/keyward serve --listen 127.0.0.1:11371 --datadir ./var

# The normal pass, then the sanitizer pass (CI runs both through this target).
check: deps
ifeq ($(SAN),1)
	$(MAKE) SAN=1 check-one
else
	$(MAKE) check-one
	$(MAKE) SAN=1 check-one
endif

check-one: tests
	KEYWARD=$(abspath $(O)/keyward) KW_TBIN=$(abspath $(TBIN)) KW_SAN=$(SAN) \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  prove -j2 --timer t/*.t

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/keyward/www $(DESTDIR)$(PREFIX)/share/doc/keyward
	install -m 755 src/keyward $(DESTDIR)$(PREFIX)/bin/keyward
	install -m 644 www/* $(DESTDIR)$(PREFIX)/share/keyward/www/
	install -m 644 README doc/*.md $(DESTDIR)$(PREFIX)/share/doc/keyward/
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/doc/keyward/examples
	install -m 644 doc/keyward.8 $(DESTDIR)$(PREFIX)/share/man/man8/keyward.8
	install -m 644 contrib/systemd/keyward.service contrib/logrotate/keyward contrib/nginx/keyward.conf \
		$(DESTDIR)$(PREFIX)/share/doc/keyward/examples/
	install -m 644 contrib/gnupg-ldap.schema $(DESTDIR)$(PREFIX)/share/keyward/

# Benchmarks (not part of check): the side-by-side lookup harness; doc/performance.md has its figures.
BENCH_SECONDS ?= 10
bench: all
	sh contrib/bench/run.sh $(BENCH_SECONDS)

clean:
	rm -rf src/*.o src/libkw.a src/keyward src/www.c src/ldapschema.c t/bin build

# The scheduler's tick with a million due entries (contrib/bench/sched-tick.c; doc/performance.md).
$(TBIN)/bench-sched-tick: contrib/bench/sched-tick.c $(O)/libkw.a $(HDRS)
	@mkdir -p $(TBIN)
	$(CC) $(KW_CFLAGS) -o $@ $< $(O)/libkw.a $(KW_LIBS)

bench-sched: $(TBIN)/bench-sched-tick
	$(TBIN)/bench-sched-tick

# A million bindings: the tick and the lookups during a re-confirmation wave (contrib/bench/reconfirm.sh).
$(TBIN)/bench-bindings: contrib/bench/bindings.c $(O)/libkw.a $(HDRS)
	@mkdir -p $(TBIN)
	$(CC) $(KW_CFLAGS) -o $@ $< $(O)/libkw.a $(KW_LIBS)

bench-reconfirm: all $(TBIN)/bench-bindings
	sh contrib/bench/reconfirm.sh $(BENCH_SECONDS)
