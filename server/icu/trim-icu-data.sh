#!/bin/sh
# Rebuilds Debian's libicudata.so.76 with only the ICU data something in the image uses
# (31.9 MB -> 3.6 MB). Runs in the Dockerfile's icu stage, which has icu-devtools and binutils.
#
# Used: Prosody's util.encodings (the stringprep profiles of nodeprep/nameprep/resourceprep/
# saslprep, rfc3920node/rfc3491/rfc3920res/rfc4013.spp; uts46.nrm for IDNA; confusables.cfu
# for skeleton(); the UTF-8 converter by its alias) and Node (Intl, normalize(),
# URL/domainToASCII through UTS #46, TextDecoder). Nothing in the container runs in a language
# other than English, so locale data is kept for en, en_US and en_US_POSIX (the default without
# LANG) and the locale-independent root; each tree's list of
# installed locales is rewritten to say so, so Intl falls back to en-US rather than claiming a
# locale whose data is gone. Dropped: the other ~900 locales in every tree, collation tailorings,
# break-iterator dictionaries (Thai, CJK ...), transliteration, character names and all legacy
# charset converters except windows-1252 (TextDecoder's latin1).
#
# Usage: trim-icu-data.sh OUTPUT_DIR  -> OUTPUT_DIR/<multiarch dir>/libicudata.so.76.1 and
# OUTPUT_DIR/icu-data.txt (the libicu76 version it came from and the items kept).
set -eu
out=$1
lib=$(dpkg -L libicu76 | grep '/libicudata\.so\.[0-9.]*[0-9]$' | grep -v '\.so\.[0-9]*$')
major=$(basename "$lib" | sed 's/^libicudata\.so\.\([0-9]*\)\..*/\1/')
name="icudt${major}l"
work=$(mktemp -d)
cd "$work"

# The data is one symbol, icudt76_dat, in .rodata: an ICU .dat package byte for byte.
set -- $(readelf -sW "$lib" | awk -v s="icudt${major}_dat" '$8 == s { print $2, $3 }')
[ $# -eq 2 ] || { echo "trim-icu-data: no icudt${major}_dat symbol in $lib" >&2; exit 1; }
vaddr=$((0x$1)); size=$(($2))
set -- $(readelf -SW "$lib" | awk '$2 == ".rodata" { print $4, $5 }')
offset=$(( vaddr - 0x$1 + 0x$2 ))
dd if="$lib" of="$name.dat" bs=65536 iflag=skip_bytes,count_bytes skip="$offset" count="$size" status=none
icupkg -l "$name.dat" > all.txt

# Kept: everything not locale data, plus root and English locale data.
locale_res='(^|/)[a-z]{2,3}(_[A-Za-z0-9]*)*\.res$'
english='(^|/)(en|en_US|en_US_POSIX|res_index)\.res$'
grep -Ev "$locale_res" all.txt \
  | grep -Ev '\.cnv$|\.dict$|^unames\.icu$|^brkitr/.*_(cj|phrase|el|fi_sv)|^coll/(de|es)_' \
  | grep -Ev '^rfc(3530|3722|4011|4505|4518).*\.spp$' > keep.txt
grep -E "$locale_res" all.txt | grep -E "$english" >> keep.txt
grep -E '^ibm-5348_P100-1997\.cnv$' all.txt >> keep.txt
grep -v '^translit/' keep.txt | sort > keep.sorted && mv keep.sorted keep.txt
grep -vxF -f keep.txt all.txt > remove.txt

# The installed-locale list of each tree: only what is kept.
mkdir -p txt res small
for tree in $(grep 'res_index\.res$' keep.txt | sed 's|res_index\.res$||'); do
  {
    echo 'res_index:table(nofallback) {'
    echo '  InstalledLocales:table {'
    grep -E "^${tree}[a-z]{2,3}(_[A-Za-z0-9]*)*\.res$" keep.txt | sed "s|^${tree}||; s|\.res$||" \
      | grep -vx res_index | sed 's/.*/    & {""}/'
    echo '  }'
    echo '}'
  } > "txt/res_index.txt"
  mkdir -p "res/$tree"
  genrb -q -d "res/$tree" txt/res_index.txt
done
# Only the dictionaries may be missing (brkitr/root.res names them): without one, ICU breaks
# Thai or CJK text without a dictionary instead of failing.
icupkg --ignore-deps -r remove.txt "$name.dat" trimmed.dat 2> deps.txt
if grep -v 'depends on missing item brkitr/[a-z]*dict\.dict$' deps.txt >&2; then
  echo "trim-icu-data: an item kept needs one removed (above)" >&2; exit 1
fi
(cd res && find . -name res_index.res | sed 's|^\./||') > res_index.txt
icupkg --ignore-deps -s res -a "$work/res_index.txt" trimmed.dat "small/$name.dat"

# Back into a shared library with the same soname and symbol.
# genccode's assembly wraps `.hidden` in #ifdef U_HIDE_DATA_SYMBOL for the C preprocessor, which
# `as` alone does not run (it reads # lines as comments): the directive goes, the symbol stays global.
genccode -q -a gcc -e "icudt${major}" -f data "small/$name.dat"
sed -i '/^[[:space:]]*\.hidden /d' data.S
as -o data.o data.S
multiarch=$(dirname "$lib")
mkdir -p "$out$multiarch"
ld -shared -soname "libicudata.so.$major" -o "$out$lib" data.o
chmod 0644 "$out$lib"
strip --strip-unneeded "$out$lib"
exported=$(readelf -W --dyn-syms "$out$lib" | awk -v s="icudt${major}_dat" '$8 == s { print $3 }')
[ "$((exported))" -eq "$(stat -c %s "small/$name.dat")" ] \
  || { echo "trim-icu-data: icudt${major}_dat is not exported whole from $out$lib" >&2; exit 1; }
{
  echo "libicudata.so.$major rebuilt from $(dpkg-query -Wf '${Package} ${Version}' libicu76) by server/icu/trim-icu-data.sh"
  echo "items kept: $(wc -l < keep.txt) of $(wc -l < all.txt)"
} > "$out/icu-data.txt"
cat "$out/icu-data.txt"
ls -l "$lib" "$out$lib"
