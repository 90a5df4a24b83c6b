# Within-pair accuracy from `vidclass evaluate --format json`: for each time-reversed pair, among
# clips of either class predicted as either class, the fraction predicted as their own.
import json, sys
d = json.load(open(sys.argv[1]))
labels, cm = d["labels"], d["confusion"]
pairs = [("move_right", "move_left"), ("move_down", "move_up"), ("rotate_clockwise", "rotate_counterclockwise"),
         ("grow", "shrink"), ("fade_in", "fade_out")]
tot_ok = tot = 0
print(f"top-1 {d['top1']*100:.1f}%")
for a, b in pairs:
    i, j = labels.index(a), labels.index(b)
    ok = cm[i][i] + cm[j][j]; n = ok + cm[i][j] + cm[j][i]
    tot_ok += ok; tot += n
    print(f"{a} / {b}: {ok}/{n} = {100*ok/max(n,1):.1f}% within the pair")
print(f"all pairs: {tot_ok}/{tot} = {100*tot_ok/max(tot,1):.1f}%")
