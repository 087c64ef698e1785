# ferry — one GNU Makefile. `make` builds build/ferry; `make run` and `make test`
# first install what is missing (see `deps`), so both work on a fresh Debian.
#
#   make            release build: build/ferry (-O2 -g)
#   make run        deps + build + serve on 127.0.0.1:8080 with ./data/ferry.db
#   make test       deps + lint + release and sanitized builds + fuzz smoke + unit + e2e;
#                   ends with "total: N passed, N failed"
#   make lint       clang-format check, banned calls, cppcheck
#   make format     apply clang-format
#   make deps       install missing Debian packages and npm packages (quick when none are)
#   make clean

BUILD   ?= build
CC      ?= cc
PKGS    := libmicrohttpd sqlite3 yaml-0.1 libcrypto jansson hiredis libcurl libpq

# Debian packages the build and the tests need; `deps` installs the missing ones.
DEB_PKGS := gcc make pkg-config libc6-dev libmicrohttpd-dev libsqlite3-dev libyaml-dev \
            libssl-dev libjansson-dev libhiredis-dev libcurl4-openssl-dev redis-server \
            libcriterion-dev clang libclang-rt-14-dev clang-format cppcheck sqlite3 curl ca-certificates \
            libpq-dev postgresql

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# Recursive (=) so pkg-config runs only when a recipe needs it, after `deps`.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral
CPPFLAGS := -D_GNU_SOURCE -Isrc -I$(BUILD)/gen -DFERRY_VERSION='"$(VERSION)"' \
            -DFERRY_GIT_REV='"$(GIT_REV)"'
REL_CFLAGS  := -O2 -g
SAN_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all
LDLIBS_BASE  = $(PKG_LIBS) -lpthread -lm

SRC      := $(shell find src -name '*.c' | sort)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
MIGS     := $(sort $(wildcard src/store/migrations/*.sql))
GEN_SRC  := $(BUILD)/gen/migrations.c $(BUILD)/gen/openapi.c
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))

REL_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/rel/%.o) $(GEN_SRC:$(BUILD)/gen/%.c=$(BUILD)/rel/gen/%.o)
SAN_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/san/%.o) $(GEN_SRC:$(BUILD)/gen/%.c=$(BUILD)/san/gen/%.o)
UNIT_OBJ    := $(UNIT_SRC:%.c=$(BUILD)/san/%.o)

.PHONY: all ferry san run test lint format deps deps-apt deps-npm unit e2e clean help
all: ferry
ferry: $(BUILD)/ferry
san: $(BUILD)/san/ferry $(BUILD)/san/unit-tests

help:
	@sed -n '3,11p' Makefile

# ---- build -----------------------------------------------------------------------------
$(BUILD)/ferry: $(REL_LIB_OBJ) $(BUILD)/rel/src/main.o
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(BUILD)/san/ferry: $(SAN_LIB_OBJ) $(BUILD)/san/src/main.o
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(BUILD)/san/unit-tests: $(SAN_LIB_OBJ) $(UNIT_OBJ)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS_BASE) -lcriterion

$(BUILD)/rel/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) $(REL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(PKG_CFLAGS) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/rel/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(REL_CFLAGS) -c $< -o $@

$(BUILD)/san/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CPPFLAGS) $(SAN_CFLAGS) -c $< -o $@

# Embedded migrations: generated from src/store/migrations/*.sql by tools/embed.c.
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -o $@ $<

$(BUILD)/gen/migrations.c: $(BUILD)/tools/embed $(MIGS)
	@mkdir -p $(@D)
	$(BUILD)/tools/embed migrations $(MIGS) > $@.tmp && mv $@.tmp $@

# The OpenAPI document served at /api/v1/openapi.json, with the build's version.
$(BUILD)/gen/openapi.c: $(BUILD)/tools/embed src/api/openapi.json $(wildcard VERSION)
	@mkdir -p $(@D)
	$(BUILD)/tools/embed -s @FERRY_VERSION@=$(VERSION) openapi src/api/openapi.json > $@.tmp && mv $@.tmp $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- run and test ----------------------------------------------------------------------
run: deps
	$(MAKE) --no-print-directory ferry
	$(BUILD)/ferry serve --migrate --demo

test: deps
	$(MAKE) --no-print-directory san ferry
	BUILD=$(BUILD) tests/run-all.sh

unit: san
	$(BUILD)/san/unit-tests

e2e: san
	FERRY_BIN=$(BUILD)/san/ferry node --test tests/e2e/

# ---- fuzz (libFuzzer, clang) -------------------------------------------------------------
# `make fuzz` builds the targets and runs each for FUZZ_SECONDS (by hand);
# `make fuzz-smoke` (part of `make test`) runs each for a bounded number of inputs.
# New inputs go to build/fuzz/corpus-TARGET (the first corpus directory given);
# tests/fuzz/seeds/TARGET holds the hand-written seeds and is only read.
FUZZ_FLAGS   := -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 20000
FUZZ_LIBS    := -lcrypto -ljansson
FUZZ_TARGETS := fuzz_json fuzz_router fuzz_hawk fuzz_base64 fuzz_csv fuzz_dquery
fuzz_json_SRC   := src/core/json.c src/core/buf.c src/core/err.c
fuzz_router_SRC := src/http/router.c src/core/err.c
fuzz_hawk_SRC   := $(sort $(wildcard src/auth/hawk*.c)) src/core/base64.c src/core/err.c
fuzz_base64_SRC := src/core/base64.c src/core/err.c
fuzz_csv_SRC    := src/ingest/csvfile.c src/ingest/coltype.c src/core/buf.c src/core/err.c
fuzz_dquery_SRC := src/api/dquery.c src/api/cursor.c src/ingest/coltype.c src/core/utf8.c \
                   src/core/arena.c src/core/base64.c src/core/buf.c src/core/err.c

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $$($$*_SRC)
	@mkdir -p $(@D)
	clang $(WARN) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $^ $(FUZZ_LIBS)

.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	  $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus-$$t tests/fuzz/seeds/$$t || exit 1; done
fuzz-smoke: fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	  $(BUILD)/fuzz/$$t -runs=$(FUZZ_RUNS) -seed=1 $(BUILD)/fuzz/corpus-$$t tests/fuzz/seeds/$$t >/dev/null 2>&1 \
	    && echo "fuzz: $$t ok" || { echo "fuzz: $$t FAILED (run: $(BUILD)/fuzz/$$t tests/fuzz/seeds/$$t)"; }; done

# ---- lint --------------------------------------------------------------------------------
C_FILES = $(shell find src tests tools bench -name '*.[ch]' 2>/dev/null | sort)
BANNED  := \<(atoi|atol|strcpy|strcat|sprintf|vsprintf|gets|strtok)[[:space:]]*\(

.PHONY: lint-format lint-banned lint-cppcheck
lint: lint-format lint-banned lint-cppcheck

lint-format:
	@clang-format --dry-run --Werror $(C_FILES) && echo "lint: clang-format ok"

lint-banned:
	@if grep -nE '$(BANNED)' $(C_FILES); then echo "lint: banned call (use the bounded alternative)"; exit 1; fi; echo "lint: banned calls ok"

lint-cppcheck:
	@cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	  --inline-suppr --suppress=missingIncludeSystem --std=c11 -D_GNU_SOURCE -Isrc \
	  $(filter src/%,$(C_FILES)) && echo "lint: cppcheck ok"

format:
	clang-format -i $(C_FILES)

# ---- dependencies ----------------------------------------------------------------------
deps: deps-apt deps-npm

# Installs only what is missing; as root directly, otherwise through sudo.
deps-apt:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm  >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

# npm packages of the test suites (package-lock.json), reinstalled when the lock changes.
deps-npm: node_modules/.ferry-stamp
node_modules/.ferry-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@mkdir -p node_modules && touch $@

clean:
	rm -rf $(BUILD)
