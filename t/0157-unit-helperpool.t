#!/bin/sh
. ./t/lib.sh
run_unit helperpool
