#!/usr/bin/env bash
# Benchmark of `trailpq convert` on generated CloudTrail logs.
#
#   bench/convert.sh BINARY OUT_DIR EVENTS
#
# Generates EVENTS Amazon Connect/Chime events (seed 1, 7 days, S3 layout, gzip) once, then
# converts a tenth of them and all of them, printing for each: uncompressed JSON MB/s, records/s,
# peak RSS and output bytes. Peak RSS staying flat from the small run to the large one is the
# point of the second run.
set -euo pipefail
bin=$1 out=$2 events=$3
mkdir -p "$out"
out=$(cd "$out" && pwd)

generate() { # events dir
  local n=$1 dir=$2
  if [ ! -f "$dir/.generated-$n" ]; then
    rm -rf "$dir"
    "$bin" generate --out "$dir" --events "$n" --days 7 --seed 1
    touch "$dir/.generated-$n"
  fi
}

run() { # label input
  local label=$1 input=$2 dest="$out/lake-$1"
  rm -rf "$dest" "$dest.report.json"
  /usr/bin/time -f '%e %M' -o "$out/time-$label" \
    "$bin" convert "$input" --out "$dest" --report "$dest.report.json" --quiet
  read -r secs rss_kb < "$out/time-$label"
  python3 - "$label" "$dest.report.json" "$secs" "$rss_kb" <<'PY'
import json, sys
label, path, secs, rss_kb = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
r = json.load(open(path))
print(f"{label:>6}: {r['records_written']:>9,} records  {r['json_bytes']/1e6:8.1f} MB JSON "
      f"({r['bytes_read']/1e6:.1f} MB gzip)  {secs:6.1f} s  "
      f"{r['json_bytes']/1e6/secs:6.1f} MB/s  {r['records_written']/secs:>9,.0f} records/s  "
      f"peak RSS {rss_kb/1024:6.0f} MiB  output {r['output_bytes']/1e6:6.1f} MB in {len(r['outputs'])} files")
PY
}

small=$((events / 10))
generate "$small" "$out/input-small"
generate "$events" "$out/input"
echo "trailpq convert, $(nproc) cores:"
run small "$out/input-small"
run full "$out/input"
