#!/usr/bin/env bash
# Motion clips of vidclass's ten synthetic classes, drawn by another generator: the ffmpeg command
# line's filters (overlay with expressions, rotate, per-frame scale, alpha fades, zoompan, moving
# crops), on other backgrounds (test patterns, bars, checkerboards, noise, flat colours), shapes,
# sizes, frame rates and codecs than `vidclass synth` has. A held-out set for the default model:
# nothing here shares code or randomness with vidclass.
#
#   bash Tools/ffmpeg_motion_clips.sh OUT_DIR [CLIPS_PER_CLASS=10] [SEED=1]
#   vidclass evaluate OUT_DIR            # OUT_DIR/labels.csv lists path,label
#
# A quarter of the clips move the whole picture rather than an object (a pan, a zoom, a roll, a
# fade of the frame from or to black); the rest move an object over a background that may itself
# sway, drift or shake a little (a camera that is not still), never as much as the object moves.
set -euo pipefail
out=${1:?usage: ffmpeg_motion_clips.sh OUT_DIR [CLIPS_PER_CLASS] [SEED]}
per_class=${2:-10}
seed=${3:-1}
RANDOM=$seed
mkdir -p "$out"
classes=(move_right move_left move_down move_up rotate_clockwise rotate_counterclockwise grow shrink fade_in fade_out)
sizes=(160x120 224x224 240x180 320x240 320x180 426x240 480x270 640x360 360x480)

rand() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }                 # integer in [a, b]
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
color() { printf '0x%02x%02x%02x' $((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)); }
# A colour far from the background's: the object's channels are pushed away from mid-grey.
bright() { printf '0x%02x%02x%02x' $(pick 20 230 240 30) $(pick 40 220 250 10) $(pick 0 200 255 60); }

# The background, as a lavfi source of size $1 (a test pattern, bars, a checkerboard, noise, a
# gradient or a flat colour), $2 seconds at $3 frames/s.
background() {
  local s=$1 d=$2 r=$3
  case $(rand 0 6) in
    0) echo "smptehdbars=s=$s:d=$d:r=$r" ;;
    1) echo "rgbtestsrc=s=$s:d=$d:r=$r" ;;
    2) local k; k=$(rand 8 32)
       echo "color=c=$(color):s=$s:d=$d:r=$r,format=yuv444p,geq=lum='if(mod(floor(X/$k)+floor(Y/$k),2),lum(X,Y)*0.6,lum(X,Y)*1.2)':cb='cb(X,Y)':cr='cr(X,Y)'" ;;
    3) echo "color=c=$(color):s=$s:d=$d:r=$r,noise=alls=$(rand 10 40):allf=t+u" ;;
    4) echo "gradients=s=$s:d=$d:r=$r:speed=0.0001:c0=$(color):c1=$(color):seed=$(rand 1 999)" ;;
    5) echo "color=c=$(color):s=$s:d=$d:r=$r,format=yuv444p,geq=lum='128+60*sin(X/$(rand 5 20))*cos(Y/$(rand 5 20))':cb='cb(X,Y)':cr='cr(X,Y)'" ;;
    *) echo "color=c=$(color):s=$s:d=$d:r=$r" ;;
  esac
}

# An object of $1×$2 pixels, an RGBA lavfi source: a box, a disk, a diamond or a box with a hole.
object() {
  local w=$1 h=$2 d=$3 r=$4 c
  c=$(bright)
  case $(rand 0 3) in
    0) echo "color=c=$c:s=${w}x$h:d=$d:r=$r,format=rgba" ;;
    1) echo "color=c=$c:s=${w}x$h:d=$d:r=$r,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lte(hypot((X-W/2)/(W/2),(Y-H/2)/(H/2)),1),255,0)'" ;;
    2) echo "color=c=$c:s=${w}x$h:d=$d:r=$r,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lte(abs(X-W/2)/(W/2)+abs(Y-H/2)/(H/2),1),255,0)'" ;;
    *) echo "color=c=$c:s=${w}x$h:d=$d:r=$r,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)':a='if(lte(max(abs(X-W/2)/(W/2),abs(Y-H/2)/(H/2)),0.45),0,255)'" ;;
  esac
}

printf 'path,label\n' > "$out/labels.csv"
for class in "${classes[@]}"; do
  mkdir -p "$out/$class"
  for ((n = 0; n < per_class; n++)); do
    size=$(pick "${sizes[@]}"); W=${size%x*}; H=${size#*x}
    S=$(( W < H ? W : H ))
    fps=$(pick 12 15 24 25 30); dur=$(pick 1.6 2 2.4 3)
    frames=$(awk -v d="$dur" -v r="$fps" 'BEGIN { printf "%d", d * r }')
    # The camera: the scene is drawn a quarter larger and a window of W×H is cut from it, still,
    # swaying, shaking or drifting slowly (at most a third of the object's speed).
    BW=$(( W * 5 / 4 / 2 * 2 )); BH=$(( H * 5 / 4 / 2 * 2 ))
    mx=$(( (BW - W) / 2 )); my=$(( (BH - H) / 2 ))
    case $(rand 0 3) in
      0) cam_x=$mx; cam_y=$my ;;
      1) cam_x="$mx+$(( mx / 2 ))*sin(2*PI*t/$(rand 1 3))"; cam_y="$my+$(( my / 2 ))*cos(2*PI*t/$(rand 1 3))" ;;
      2) cam_x="$mx+$(rand 1 3)*(random(1)*2-1)"; cam_y="$my+$(rand 1 3)*(random(2)*2-1)" ;;
      *) cam_x="$(rand 0 $mx)+$(rand 0 $mx)*t/$dur/3"; cam_y="$(rand 0 $my)+$(rand 0 $my)*t/$dur/3" ;;
    esac
    bg=$(background "${BW}x$BH" "$dur" "$fps")
    whole=$(( RANDOM % 4 == 0 ))
    o=$(( S * $(rand 18 32) / 100 / 2 * 2 ))   # object size, even
    cx=$(( mx + W / 2 + $(rand -$((W / 6)) $((W / 6))) )); cy=$(( my + H / 2 + $(rand -$((H / 6)) $((H / 6))) ))
    crop="crop=$W:$H:x='$cam_x':y='$cam_y'"
    if [ $whole = 1 ]; then
      # The whole picture moves: a pan across a larger scene, a zoom, a roll, a fade of the frame.
      BW2=$(( W * 2 )); BH2=$(( H * 2 ))
      scene="$(background "${BW2}x$BH2" "$dur" "$fps")[bg];$(object $o $o "$dur" "$fps")[ob];[bg][ob]overlay=x=$(( BW2 / 2 - o )):y=$(( BH2 / 2 - o / 2 ))"
      p=$(( W * $(rand 30 60) / 100 )); q=$(( H * $(rand 30 60) / 100 ))
      case $class in
        move_right) fc="$scene,crop=$W:$H:x='$(( W / 2 + p / 2 ))-$p*t/$dur':y=$(( H / 2 ))" ;;
        move_left)  fc="$scene,crop=$W:$H:x='$(( W / 2 - p / 2 ))+$p*t/$dur':y=$(( H / 2 ))" ;;
        move_down)  fc="$scene,crop=$W:$H:x=$(( W / 2 )):y='$(( H / 2 + q / 2 ))-$q*t/$dur'" ;;
        move_up)    fc="$scene,crop=$W:$H:x=$(( W / 2 )):y='$(( H / 2 - q / 2 ))+$q*t/$dur'" ;;
        grow)   z=$(pick 0.8 1 1.3); fc="$scene,zoompan=z='1+$z*on/$frames':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${W}x$H:fps=$fps" ;;
        shrink) z=$(pick 0.8 1 1.3); fc="$scene,zoompan=z='1+$z-$z*on/$frames':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${W}x$H:fps=$fps" ;;
        rotate_clockwise)        a=$(pick 1.6 2 2.6); fc="$scene,rotate=a='$a*t/$dur',crop=$W:$H" ;;
        rotate_counterclockwise) a=$(pick 1.6 2 2.6); fc="$scene,rotate=a='-$a*t/$dur',crop=$W:$H" ;;
        fade_in)  fc="$(background "${W}x$H" "$dur" "$fps")[bg];$(object $o $o "$dur" "$fps")[ob];[bg][ob]overlay=x=$(( W / 2 - o / 2 )):y=$(( H / 2 - o / 2 )),fade=t=in:st=0:d=$dur" ;;
        fade_out) fc="$(background "${W}x$H" "$dur" "$fps")[bg];$(object $o $o "$dur" "$fps")[ob];[bg][ob]overlay=x=$(( W / 2 - o / 2 )):y=$(( H / 2 - o / 2 )),fade=t=out:st=0:d=$dur" ;;
      esac
    else
      travel_x=$(( W * $(rand 40 70) / 100 )); travel_y=$(( H * $(rand 40 70) / 100 ))
      case $class in
        move_right|move_left|move_down|move_up)
          x0=$(( cx - travel_x / 2 - o / 2 )); y0=$(( cy - travel_y / 2 - o / 2 ))
          case $class in
            move_right) ox="$x0+$travel_x*t/$dur"; oy=$(( cy - o / 2 )) ;;
            move_left)  ox="$(( x0 + travel_x ))-$travel_x*t/$dur"; oy=$(( cy - o / 2 )) ;;
            move_down)  ox=$(( cx - o / 2 )); oy="$y0+$travel_y*t/$dur" ;;
            move_up)    ox=$(( cx - o / 2 )); oy="$(( y0 + travel_y ))-$travel_y*t/$dur" ;;
          esac
          fc="$bg[bg];$(object $o $o "$dur" "$fps")[ob];[bg][ob]overlay=x='$ox':y='$oy',$crop" ;;
        rotate_clockwise|rotate_counterclockwise)
          # A bar (3:1, or 4:1 with a notch-free body) turning 90–150 degrees about its center.
          L=$(( S * $(rand 36 50) / 100 / 2 * 2 )); T=$(( L / $(pick 3 4) / 2 * 2 ))
          a=$(pick 1.6 2 2.4 2.6); a0=$(pick 0 0.5 1 2)
          sign=$([ $class = rotate_clockwise ] && echo "" || echo "-")
          fc="$bg[bg];color=c=$(bright):s=${L}x$T:d=$dur:r=$fps,format=rgba,pad=$L:$L:0:$(( (L - T) / 2 )):color=0x00000000,rotate=a='$a0+$sign$a*t/$dur':c=none[ob];[bg][ob]overlay=x=$(( cx - L / 2 )):y=$(( cy - L / 2 )),$crop" ;;
        grow|shrink)
          s0=$(( S * $(rand 8 12) / 100 )); s1=$(( S * $(rand 28 40) / 100 ))
          if [ $class = grow ]; then e="$s0+($s1-$s0)*t/$dur"; else e="$s1-($s1-$s0)*t/$dur"; fi
          fc="$bg[bg];$(object $s1 $s1 "$dur" "$fps"),scale=w='2*trunc(($e)/2)':h='2*trunc(($e)/2)':eval=frame[ob];[bg][ob]overlay=x='$cx-overlay_w/2':y='$cy-overlay_h/2',$crop" ;;
        fade_in|fade_out)
          t=$([ $class = fade_in ] && echo in || echo out)
          fc="$bg[bg];$(object $o $o "$dur" "$fps"),fade=t=$t:st=0:d=$dur:alpha=1[ob];[bg][ob]overlay=x=$(( cx - o / 2 )):y=$(( cy - o / 2 )),$crop" ;;
      esac
    fi
    case $(rand 0 3) in
      0) ext=webm; codec=(-c:v libvpx-vp9 -b:v 0 -crf $(rand 30 50) -deadline realtime -cpu-used 8) ;;
      1) ext=avi; codec=(-c:v mpeg4 -q:v $(rand 3 12)) ;;
      *) ext=mp4; codec=(-c:v libx264 -preset veryfast -crf $(rand 18 38)) ;;
    esac
    file="$class/${class}_$(printf %03d "$n").$ext"
    ffmpeg -nostdin -v error -y -filter_complex "$fc,format=yuv420p" -t "$dur" -r "$fps" "${codec[@]}" "$out/$file"
    printf '%s,%s\n' "$file" "$class" >> "$out/labels.csv"
  done
done
echo "wrote $(( per_class * ${#classes[@]} )) clips to $out (labels.csv lists them)"
