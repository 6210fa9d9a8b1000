#!/bin/sh
# SCF copies of two of Biopython's real ABIF traces, written by Staden io_lib's
# convert_trace (the reference SCF writer): the tests read them with trkres's SCF reader
# and check they give the same channels, calls, peaks and qualities as the ABIF files.
# Dev-only: apt-get install staden-io-lib-utils (io_lib 1.14.15 wrote the committed files).
set -eu
here=$(cd "$(dirname "$0")/../../tests/data/sanger" && pwd)
for f in 3100 310; do
    convert_trace -in_format abi -out_format scf < "$here/$f.ab1" > "$here/$f.scf"
done
