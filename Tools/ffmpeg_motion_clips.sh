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
mkdir -p "$out"
classes=(move_right move_left move_down move_up rotate_clockwise rotate_counterclockwise grow shrink fade_in fade_out)
sizes=(160x120 224x224 240x180 320x240 320x180 426x240 480x270 640x360 360x480)

# Random draws from one 48-bit linear congruential generator seeded by SEED, so a seed makes the
# same clips on any machine. Helpers set globals (R, P, C, BG, OB) rather than print: a command
# substitution would run them in a subshell, whose draws the next call would not see.
state=$(( (seed * 2654435761 + 12345) & 0xFFFFFFFFFFFF ))
rnd() { state=$(( (state * 0x5DEECE66D + 0xB) & 0xFFFFFFFFFFFF )); R=$(( $1 + (state >> 17) % ($2 - $1 + 1) )); }
pick() { rnd 0 $(( $# - 1 )); local a=("$@"); P=${a[$R]}; }
color() { local r g b; rnd 0 255; r=$R; rnd 0 255; g=$R; rnd 0 255; b=$R; C=$(printf '0x%02x%02x%02x' $r $g $b); }
# A saturated colour for objects: each channel near one end.
bright() { local r g b; pick 20 230 240 30; r=$P; pick 40 220 250 10; g=$P; pick 0 200 255 60; b=$P; C=$(printf '0x%02x%02x%02x' $r $g $b); }

# BG: a background lavfi source of size $1 (a test pattern, bars, a checkerboard, noise, a
# gradient, a sine pattern or a flat colour), $2 seconds at $3 frames/s.
background() {
  local s=$1 d=$2 r=$3 k c0
  rnd 0 6
  case $R in
    0) BG="smptehdbars=s=$s:d=$d:r=$r" ;;
    1) BG="rgbtestsrc=s=$s:d=$d:r=$r" ;;
    2) rnd 8 32; k=$R; color
       BG="color=c=$C:s=$s:d=$d:r=$r,format=yuv444p,geq=lum='if(mod(floor(X/$k)+floor(Y/$k),2),lum(X,Y)*0.6,lum(X,Y)*1.2)':cb='cb(X,Y)':cr='cr(X,Y)'" ;;
    3) color; rnd 10 40; BG="color=c=$C:s=$s:d=$d:r=$r,noise=alls=$R:allf=t+u" ;;
    4) color; c0=$C; color; rnd 1 999; BG="gradients=s=$s:d=$d:r=$r:speed=0.0001:c0=$c0:c1=$C:seed=$R" ;;
    5) color; rnd 5 20; k=$R; rnd 5 20
       BG="color=c=$C:s=$s:d=$d:r=$r,format=yuv444p,geq=lum='128+60*sin(X/$k)*cos(Y/$R)':cb='cb(X,Y)':cr='cr(X,Y)'" ;;
    *) color; BG="color=c=$C:s=$s:d=$d:r=$r" ;;
  esac
}

# OB: an object of $1×$2 pixels, an RGBA lavfi source: a box, a disk, a diamond or a box with a hole.
object() {
  local w=$1 h=$2 d=$3 r=$4
  bright
  local src="color=c=$C:s=${w}x$h:d=$d:r=$r,format=rgba"
  local keep="geq=r='r(X,Y)':g='g(X,Y)':b='b(X,Y)'"
  rnd 0 3
  case $R in
    0) OB="$src" ;;
    1) OB="$src,$keep:a='if(lte(hypot((X-W/2)/(W/2),(Y-H/2)/(H/2)),1),255,0)'" ;;
    2) OB="$src,$keep:a='if(lte(abs(X-W/2)/(W/2)+abs(Y-H/2)/(H/2),1),255,0)'" ;;
    *) OB="$src,$keep:a='if(lte(max(abs(X-W/2)/(W/2),abs(Y-H/2)/(H/2)),0.45),0,255)'" ;;
  esac
}

printf 'path,label\n' > "$out/labels.csv"
: > "$out/filters.tsv"   # each clip's filter graph
for class in "${classes[@]}"; do
  mkdir -p "$out/$class"
  for ((n = 0; n < per_class; n++)); do
    pick "${sizes[@]}"; W=${P%x*}; H=${P#*x}
    S=$(( W < H ? W : H ))
    pick 12 15 24 25 30; fps=$P; pick 1.6 2 2.4 3; dur=$P
    frames=$(awk -v d="$dur" -v r="$fps" 'BEGIN { printf "%d", d * r }')
    # The camera: the scene is drawn a quarter larger and a window of W×H is cut from it, still,
    # swaying, shaking or drifting slowly (at most a third of the object's speed).
    BW=$(( W * 5 / 4 / 2 * 2 )); BH=$(( H * 5 / 4 / 2 * 2 ))
    mx=$(( (BW - W) / 2 )); my=$(( (BH - H) / 2 ))
    rnd 0 3
    case $R in
      0) cam_x=$mx; cam_y=$my ;;
      1) rnd 1 3; cam_x="$mx+$(( mx / 2 ))*sin(2*PI*t/$R)"; rnd 1 3; cam_y="$my+$(( my / 2 ))*cos(2*PI*t/$R)" ;;
      2) rnd 1 3; cam_x="$mx+$R*(random(1)*2-1)"; rnd 1 3; cam_y="$my+$R*(random(2)*2-1)" ;;
      *) rnd 0 $mx; cam_x="$R+$(( mx / 2 ))*t/$dur"; rnd 0 $my; cam_y="$R+$(( my / 2 ))*t/$dur" ;;
    esac
    background "${BW}x$BH" "$dur" "$fps"; bg=$BG
    rnd 0 3; whole=$(( R == 0 ))
    rnd 18 32; o=$(( S * R / 100 / 2 * 2 ))   # object size, even
    rnd -$((W / 6)) $((W / 6)); cx=$(( mx + W / 2 + R ))
    rnd -$((H / 6)) $((H / 6)); cy=$(( my + H / 2 + R ))
    crop="crop=$W:$H:x='$cam_x':y='$cam_y'"
    if [ $whole = 1 ]; then
      # The whole picture moves: a pan across a larger scene, a zoom, a roll, a fade of the frame.
      BW2=$(( W * 2 )); BH2=$(( H * 2 ))
      background "${BW2}x$BH2" "$dur" "$fps"; object $o $o "$dur" "$fps"
      scene="$BG[bg];$OB[ob];[bg][ob]overlay=x=$(( BW2 / 2 - o )):y=$(( BH2 / 2 - o / 2 ))"
      rnd 30 60; p=$(( W * R / 100 )); rnd 30 60; q=$(( H * R / 100 ))
      pick 0.8 1 1.3; z=$P; pick 1.6 2 2.6; a=$P
      background "${W}x$H" "$dur" "$fps"; object $o $o "$dur" "$fps"
      still="$BG[bg];$OB[ob];[bg][ob]overlay=x=$(( W / 2 - o / 2 )):y=$(( H / 2 - o / 2 ))"
      case $class in
        move_right) fc="$scene,crop=$W:$H:x='$(( W / 2 + p / 2 ))-$p*t/$dur':y=$(( H / 2 ))" ;;
        move_left)  fc="$scene,crop=$W:$H:x='$(( W / 2 - p / 2 ))+$p*t/$dur':y=$(( H / 2 ))" ;;
        move_down)  fc="$scene,crop=$W:$H:x=$(( W / 2 )):y='$(( H / 2 + q / 2 ))-$q*t/$dur'" ;;
        move_up)    fc="$scene,crop=$W:$H:x=$(( W / 2 )):y='$(( H / 2 - q / 2 ))+$q*t/$dur'" ;;
        grow)   fc="$scene,zoompan=z='1+$z*on/$frames':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${W}x$H:fps=$fps" ;;
        shrink) fc="$scene,zoompan=z='1+$z-$z*on/$frames':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s=${W}x$H:fps=$fps" ;;
        rotate_clockwise)        fc="$scene,rotate=a='$a*t/$dur',crop=$W:$H" ;;
        rotate_counterclockwise) fc="$scene,rotate=a='-$a*t/$dur',crop=$W:$H" ;;
        fade_in)  fc="$still,fade=t=in:st=0:d=$dur" ;;
        fade_out) fc="$still,fade=t=out:st=0:d=$dur" ;;
      esac
    else
      rnd 40 70; travel_x=$(( W * R / 100 )); rnd 40 70; travel_y=$(( H * R / 100 ))
      object $o $o "$dur" "$fps"
      case $class in
        move_right|move_left|move_down|move_up)
          x0=$(( cx - travel_x / 2 - o / 2 )); y0=$(( cy - travel_y / 2 - o / 2 ))
          case $class in
            move_right) ox="$x0+$travel_x*t/$dur"; oy=$(( cy - o / 2 )) ;;
            move_left)  ox="$(( x0 + travel_x ))-$travel_x*t/$dur"; oy=$(( cy - o / 2 )) ;;
            move_down)  ox=$(( cx - o / 2 )); oy="$y0+$travel_y*t/$dur" ;;
            move_up)    ox=$(( cx - o / 2 )); oy="$(( y0 + travel_y ))-$travel_y*t/$dur" ;;
          esac
          fc="$bg[bg];$OB[ob];[bg][ob]overlay=x='$ox':y='$oy',$crop" ;;
        rotate_clockwise|rotate_counterclockwise)
          # A bar (3:1, or 4:1 with a notch-free body) turning 90–150 degrees about its center.
          rnd 36 50; L=$(( S * R / 100 / 2 * 2 )); pick 3 4; T=$(( L / P / 2 * 2 ))
          pick 1.6 2 2.4 2.6; a=$P; pick 0 0.5 1 2; a0=$P
          if [ $class = rotate_clockwise ]; then sign=""; else sign="-"; fi
          bright
          fc="$bg[bg];color=c=$C:s=${L}x$T:d=$dur:r=$fps,format=rgba,pad=$L:$L:0:$(( (L - T) / 2 )):color=0x00000000,rotate=a='$a0+$sign$a*t/$dur':c=none[ob];[bg][ob]overlay=x=$(( cx - L / 2 )):y=$(( cy - L / 2 )),$crop" ;;
        grow|shrink)
          rnd 8 12; s0=$(( S * R / 100 )); rnd 28 40; s1=$(( S * R / 100 ))
          object $s1 $s1 "$dur" "$fps"
          if [ $class = grow ]; then e="$s0+($s1-$s0)*t/$dur"; else e="$s1-($s1-$s0)*t/$dur"; fi
          fc="$bg[bg];$OB,scale=w='2*trunc(($e)/2)':h='2*trunc(($e)/2)':eval=frame[ob];[bg][ob]overlay=x='$cx-overlay_w/2':y='$cy-overlay_h/2',$crop" ;;
        fade_in|fade_out)
          if [ $class = fade_in ]; then way=in; else way=out; fi
          fc="$bg[bg];$OB,fade=t=$way:st=0:d=$dur:alpha=1[ob];[bg][ob]overlay=x=$(( cx - o / 2 )):y=$(( cy - o / 2 )),$crop" ;;
      esac
    fi
    rnd 0 3; kind=$R
    case $kind in
      0) rnd 30 50; ext=webm; codec=(-c:v libvpx-vp9 -b:v 0 -crf $R -deadline realtime -cpu-used 8) ;;
      1) rnd 3 12; ext=avi; codec=(-c:v mpeg4 -q:v $R) ;;
      *) rnd 18 38; ext=mp4; codec=(-c:v libx264 -preset veryfast -crf $R) ;;
    esac
    file="$class/${class}_$(printf %03d "$n").$ext"
    ffmpeg -nostdin -v error -y -filter_complex "$fc,format=yuv420p" -t "$dur" -r "$fps" "${codec[@]}" "$out/$file"
    printf '%s,%s\n' "$file" "$class" >> "$out/labels.csv"
    printf '%s\t%s\n' "$file" "$fc" >> "$out/filters.tsv"
  done
done
echo "wrote $(( per_class * ${#classes[@]} )) clips to $out (labels.csv lists them)"
