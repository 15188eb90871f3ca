# t/lib.sh — shared by every shell test: locations, TAP helpers, a server per test.
# Tests run from the repository root (prove t/*.t). KEYWARD and KW_TBIN come from make check;
# the defaults let a test run by hand after `make tests`.
: "${KEYWARD:=$PWD/src/keyward}"
: "${KW_TBIN:=$PWD/t/bin}"
KW_ROOT=$PWD
export KEYWARD KW_TBIN KW_ROOT

# Run a C unit test binary (it prints its own TAP).
run_unit() { exec "$KW_TBIN/$1"; }
