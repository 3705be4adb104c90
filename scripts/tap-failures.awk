# Prints each failed assertion of a tap stream (tap's --reporter=tap output) as one line:
# "not ok: <test file> > <subtest> > ... > <assertion>", then the first lines of its
# diagnostics (where, what was wanted and found). .ci/run prints this just before its last
# line, so a red run names its failures even where only the log's tail is kept.
# Only leaves are listed: a subtest that failed because an assertion inside it failed is
# the path of that assertion, not a line of its own.
function depth(line) { match(line, /^ */); return int(RLENGTH / 4) }
/^ *# Subtest: / {
  d = depth($0); name = $0; sub(/^ *# Subtest: /, "", name)
  path[d] = name; for (k = d + 1; k in path; k++) delete path[k]
  next
}
/^ *not ok [0-9]+/ {
  d = depth($0); desc = $0; sub(/^ *not ok [0-9]+ - /, "", desc); sub(/ # time=.*$/, "", desc)
  p = ""; for (k = 0; k < d; k++) p = p path[k] " > "
  # a failed subtest whose own name heads the path of a failure already printed is not a leaf
  if ((p desc " > ") in printed_prefix) { next }
  print "not ok: " p desc; n++
  for (k = 0; k < d; k++) { q = ""; for (j = 0; j <= k; j++) q = q path[j] " > "; printed_prefix[q] = 1 }
  diag = 12; in_diff = 0; after_stack = 0; next
}
diag > 0 {
  line = $0; sub(/^ */, "", line)
  if (line == "...") { diag = 0; next }
  if (after_stack) { print "    at " line; diag--; after_stack = 0; next }
  if (line ~ /^stack:/) { after_stack = 1; next }
  if (line ~ /^[a-zA-Z]+:/) in_diff = (line ~ /^diff:/)
  if (line ~ /^(found|wanted|pattern|message|error|code|signal|exitCode|timeout|expired):/ || (in_diff && line ~ /^[-+]/ && line !~ /^(---|\+\+\+)/)) {
    print "    " line; diag--
  }
}
END { if (n > 0) printf "%d failed assertion(s) or test(s) listed above\n", n }
