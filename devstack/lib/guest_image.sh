#!/usr/bin/env bash
# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# The tiny guest image: a Debian cloud kernel and a busybox initramfs, built
# without internet access from two Debian packages (downloaded with
# `apt-get download`, unpacked with `dpkg -x`, never installed on the host):
#
#   - linux-image-cloud-amd64 (the kernel, and its virtio modules),
#   - busybox-static (every program the guest runs).
#
# The initramfs's /init mounts proc/sys/dev, loads the virtio modules (the cloud
# kernel has them as modules and the image has no modules.dep, so the order is
# worked out here at build time from each module's "depends" and /init insmods
# them in that order), brings up lo and the first NIC, runs udhcpc (address,
# router, MTU, DNS and option 121 classless static routes), reads the metadata
# service at 169.254.169.254 with busybox wget, prints what it learned to the
# console as "stratus-guest: ..." lines, and then hands over to busybox init,
# which keeps a root shell on the console (no password: this is a test image,
# like CirrOS).  Boot it with `-kernel vmlinuz -initrd initrd.img -append
# console=ttyS0` (AKI/ARI style).
#
# Outputs in OUTPUT_DIR: vmlinuz, initrd.img (cpio newc, gzip) and version
# (the package versions it was built from), all world-readable (libvirt's
# qemu user reads them).  Downloaded .debs are kept in the cache directory
# ($GUEST_IMAGE_CACHE, else $STRATUS_HOME/cache when STRATUS_HOME is set, else
# OUTPUT_DIR/cache), so a re-run needs no network; a build is skipped when the
# outputs are newer than this script (GUEST_IMAGE_FORCE=1 rebuilds).
#
# Use: `bash devstack/lib/guest_image.sh OUTPUT_DIR`, or source this file and
# call `guest_image_build OUTPUT_DIR`.  Needs apt-get (for the first download),
# dpkg, gzip; no root (except for apt-get update when the package lists are
# missing).

GUEST_IMAGE_SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
GUEST_IMAGE_KERNEL_PACKAGE=${GUEST_IMAGE_KERNEL_PACKAGE:-linux-image-cloud-amd64}
GUEST_IMAGE_BUSYBOX_PACKAGE=${GUEST_IMAGE_BUSYBOX_PACKAGE:-busybox-static}
# Modules /init loads, with everything they depend on (a missing one is skipped).
GUEST_IMAGE_MODULES=${GUEST_IMAGE_MODULES:-virtio_pci virtio_net virtio_blk virtio_balloon}
# The kernel command line the image expects.
GUEST_IMAGE_CMDLINE=${GUEST_IMAGE_CMDLINE:-console=ttyS0}

# guest_image_build OUTPUT_DIR: build (or keep, when up to date) the image.
# Runs in its own bash so that its error handling does not depend on the caller.
guest_image_build() {
    local out=${1:?usage: guest_image_build OUTPUT_DIR}
    STRATUS_HOME=${STRATUS_HOME:-} bash "$GUEST_IMAGE_SCRIPT" "$out"
}

# ---------------------------------------------------------------------------
# Below: the build itself (run as `bash guest_image.sh OUTPUT_DIR`)
# ---------------------------------------------------------------------------

_gi_log() { printf 'guest-image: %s\n' "$*" >&2; }
_gi_die() {
    printf 'guest-image: ERROR: %s\n' "$*" >&2
    exit 1
}

# _gi_cached PATTERN: the newest cached .deb matching PATTERN (glob), or nothing.
_gi_cached() {
    local f
    # shellcheck disable=SC2086
    for f in "$_GI_CACHE"/$1; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done | sort -V | tail -n 1
}

# _gi_download PACKAGE: fetch PACKAGE's .deb into the cache (atomically).
_gi_download() {
    local pkg=$1 tmp opts=()
    tmp=$(mktemp -d "$_GI_CACHE/.download.XXXXXX")
    # As root apt drops to the _apt user, which cannot write to our directory.
    if [ "$(id -u)" -eq 0 ]; then opts=(-o APT::Sandbox::User=root); fi
    if ! (cd "$tmp" && apt-get "${opts[@]}" -q download "$pkg" >&2); then
        if [ "$(id -u)" -eq 0 ]; then
            _gi_log "apt-get download $pkg failed; updating the package lists once"
            apt-get -q update >&2 || true
            (cd "$tmp" && apt-get "${opts[@]}" -q download "$pkg" >&2) || {
                rm -rf "$tmp"
                _gi_die "cannot download the Debian package $pkg (is a Debian mirror reachable? apt-get update?)"
            }
        else
            rm -rf "$tmp"
            _gi_die "cannot download the Debian package $pkg (run apt-get update as root, or put its .deb in $_GI_CACHE)"
        fi
    fi
    local f
    for f in "$tmp"/*.deb; do mv -f "$f" "$_GI_CACHE/"; done
    rm -rf "$tmp"
}

# _gi_kernel_deb: the cached kernel .deb (the package the metapackage names).
_gi_kernel_deb() {
    local pkg=$GUEST_IMAGE_KERNEL_PACKAGE flavour deb real
    # linux-image-cloud-amd64 -> linux-image-*-cloud-amd64_*.deb
    flavour=${pkg#linux-image-}
    deb=$(_gi_cached "linux-image-[0-9]*-${flavour}_*.deb")
    if [ -z "$deb" ]; then
        if [[ $pkg == linux-image-[0-9]* ]]; then
            real=$pkg
        else
            real=$(apt-cache depends "$pkg" 2>/dev/null |
                awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
            if [ -z "$real" ] && [ "$(id -u)" -eq 0 ]; then
                apt-get -q update >&2 || true
                real=$(apt-cache depends "$pkg" 2>/dev/null |
                    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
            fi
            [ -n "$real" ] || _gi_die "apt knows no package $pkg (apt-get update?)"
        fi
        _gi_log "downloading $real"
        _gi_download "$real"
        deb=$(_gi_cached "${real}_*.deb")
    fi
    [ -n "$deb" ] || _gi_die "no kernel package found in $_GI_CACHE"
    printf '%s\n' "$deb"
}

_gi_busybox_deb() {
    local pkg=$GUEST_IMAGE_BUSYBOX_PACKAGE deb
    deb=$(_gi_cached "${pkg}_*.deb")
    if [ -z "$deb" ]; then
        _gi_log "downloading $pkg"
        _gi_download "$pkg"
        deb=$(_gi_cached "${pkg}_*.deb")
    fi
    [ -n "$deb" ] || _gi_die "no $pkg package found in $_GI_CACHE"
    printf '%s\n' "$deb"
}

# _gi_depends KO: the modules KO depends on, one a line.
_gi_depends() {
    local ko=$1 raw
    case $ko in
        *.xz) raw=$(xz -dc "$ko" | tr '\0' '\n') ;;
        *.zst) raw=$(zstd -dcq "$ko" | tr '\0' '\n') ;;
        *.gz) raw=$(gzip -dc "$ko" | tr '\0' '\n') ;;
        *) raw=$(tr '\0' '\n' <"$ko") ;;
    esac
    printf '%s\n' "$raw" | sed -n 's/^depends=//p' | head -n 1 | tr ',' '\n' | sed '/^$/d'
}

declare -A _GI_KO=() _GI_SEEN=()
_GI_ORDER=()
# _gi_visit MODULE: append MODULE after its dependencies to _GI_ORDER.
_gi_visit() {
    local mod=$1 dep
    [ -n "${_GI_SEEN[$mod]:-}" ] && return 0
    _GI_SEEN[$mod]=1
    [ -n "${_GI_KO[$mod]:-}" ] || _gi_die "kernel module $mod (needed by the guest) is not in the kernel package"
    for dep in $(_gi_depends "${_GI_KO[$mod]}"); do
        _gi_visit "${dep//-/_}"
    done
    _GI_ORDER+=("$mod")
}

_gi_write_init() {
    cat >"$1" <<'EOF'
#!/bin/sh
# Stratus tiny guest: /init of the initramfs (busybox).  Built by
# devstack/lib/guest_image.sh.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
/bin/busybox --install -s
mkdir -p /proc /sys /dev /run /tmp /root /var/log /etc
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
exec </dev/console >/dev/console 2>&1
say() { echo "stratus-guest: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

say "boot kernel $(uname -r) at $(uptime_s) s"
# Our lines, not the kernel's, on the console from here on.
dmesg -n 1
for mod in $(cat /lib/modules/stratus-load-order); do
    insmod "/lib/modules/$mod.ko" 2>/dev/null || say "warning: insmod $mod failed"
done
hostname stratus-guest
ip link set lo up
disks=''
for d in /sys/block/*; do
    case ${d##*/} in ram* | loop* | '*') ;; *) disks="$disks ${d##*/}" ;; esac
done
say "disks${disks:- none}"

# The NIC: eth0, else the first one that is not lo (wait up to 5 s for it).
iface=''
i=0
while [ $i -lt 50 ]; do
    if [ -e /sys/class/net/eth0 ]; then iface=eth0; break; fi
    for n in /sys/class/net/*; do
        n=${n##*/}
        if [ "$n" != lo ] && [ -e "/sys/class/net/$n" ]; then iface=$n; break 2; fi
    done
    i=$((i + 1))
    sleep 0.1
done

# (busybox 1.35 wget crashes on -T: the timeout comes from timeout.)
md() { timeout 10 wget -q -O - "http://169.254.169.254/$1" 2>/dev/null; }
if [ -z "$iface" ]; then
    say "no network interface"
else
    ip link set "$iface" up
    say "dhcp on $iface ($(cat "/sys/class/net/$iface/address"))"
    # Foreground until the first lease (or 10 tries), then in the background,
    # renewing the lease (and retrying when there was none).
    udhcpc -i "$iface" -s /etc/udhcpc.script -p /run/udhcpc.pid -b -t 10 -T 2 -A 5 \
        -O staticroutes -O mtu -O domain -O search >/dev/null 2>&1
    i=0
    while [ ! -e /run/stratus-net/addr ] && [ $i -lt 120 ]; do
        i=$((i + 1))
        sleep 1
    done
    if [ ! -e /run/stratus-net/addr ]; then
        say "no DHCP lease; udhcpc keeps trying in the background"
    else
        # The metadata service (EC2 and OpenStack paths).
        i=0
        while ! iid=$(md latest/meta-data/instance-id) && [ $i -lt 10 ]; do
            i=$((i + 1))
            sleep 2
        done
        if [ -z "$iid" ]; then
            say "metadata service unreachable at 169.254.169.254"
        else
            say "instance-id $iid"
            if name=$(md latest/meta-data/hostname) && [ -n "$name" ]; then
                hostname "${name%%.*}"
                say "hostname $name"
            fi
            if key=$(md latest/meta-data/public-keys/0/openssh-key) && [ -n "$key" ]; then
                mkdir -p /root/.ssh
                chmod 700 /root/.ssh
                printf '%s\n' "$key" >/root/.ssh/authorized_keys
                say "ssh-key $key"
            else
                say "ssh-key none"
            fi
            if md openstack/latest/user_data >/run/user-data; then
                say "user-data $(wc -c </run/user-data) bytes"
                if [ "$(head -c 2 /run/user-data)" = '#!' ]; then
                    chmod 700 /run/user-data
                    /run/user-data
                    say "user-data exit $?"
                fi
            else
                rm -f /run/user-data
                say "user-data none"
            fi
        fi
    fi
fi
say "ready at $(uptime_s) s"

# Report disks that come and go (volumes attached while the guest runs) on the
# console, so an operator or a test sees a hot-plugged volume arrive.
(
    known=" "
    for d in /sys/block/vd*; do [ -e "$d" ] && known="$known${d##*/} "; done
    while sleep 1; do
        now=" "
        for d in /sys/block/vd*; do
            [ -e "$d" ] || continue
            n=${d##*/}
            now="$now$n "
            case $known in
                *" $n "*) ;;
                *) say "disk $n added, $(($(cat "$d/size") * 512)) bytes" ;;
            esac
        done
        for n in $known; do
            case $now in *" $n "*) ;; *) say "disk $n removed" ;; esac
        done
        known=$now
    done
) &

cat >/etc/inittab <<'TAB'
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
TAB
exec /bin/busybox init
EOF
}

_gi_write_udhcpc_script() {
    cat >"$1" <<'EOF'
#!/bin/sh
# udhcpc event script of the Stratus tiny guest: address, MTU, routes (option
# 121 classless static routes win over the router option, as RFC 3442 says),
# DNS; prints the lease to the console.
say() { echo "stratus-guest: $*" >/dev/console; }
event=$1
state=/run/stratus-net
mkdir -p "$state"
case "$event" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set "$interface" up
        rm -f "$state/addr" "$state/routes"
        ;;
    leasefail | nak)
        say "dhcp $event on $interface${message:+: $message}"
        ;;
    bound | renew)
        prefix=${mask:-}
        if [ -z "$prefix" ]; then
            prefix=$(ipcalc -p "$ip" "${subnet:-255.255.255.0}" | sed 's/.*=//')
        fi
        if [ -n "$mtu" ]; then ip link set dev "$interface" mtu "$mtu"; fi
        old=$(cat "$state/addr" 2>/dev/null)
        if [ "$ip/$prefix" != "$old" ]; then
            ip -4 addr flush dev "$interface"
            ip -4 addr add "$ip/$prefix" broadcast "${broadcast:-+}" dev "$interface"
        fi
        # The routes of the previous lease go (busybox ip cannot flush by
        # protocol: they are remembered in $state/routes).
        if [ -s "$state/routes" ]; then
            while read -r dst; do ip -4 route del "$dst" dev "$interface" 2>/dev/null; done <"$state/routes"
        fi
        : >"$state/routes"
        gw=''
        if [ -n "$staticroutes" ]; then
            # shellcheck disable=SC2086
            set -- $staticroutes
            while [ $# -ge 2 ]; do
                if [ "$2" = 0.0.0.0 ]; then
                    ip -4 route replace "$1" dev "$interface"
                else
                    ip -4 route replace "$1" via "$2" dev "$interface"
                fi && echo "$1" >>"$state/routes"
                if [ "$1" = 0.0.0.0/0 ]; then gw=$2; fi
                shift 2
            done
        elif [ -n "$router" ]; then
            for r in $router; do
                if ip -4 route replace default via "$r" dev "$interface"; then
                    echo default >>"$state/routes"
                    gw=$r
                    break
                fi
            done
        fi
        if [ -n "$dns" ]; then
            {
                if [ -n "$search" ]; then echo "search $search"; elif [ -n "$domain" ]; then echo "search $domain"; fi
                for s in $dns; do echo "nameserver $s"; done
            } >/etc/resolv.conf
        fi
        echo "$ip/$prefix" >"$state/addr"
        if [ "$ip/$prefix" != "$old" ]; then
            say "ip $ip/$prefix via ${gw:-none} on $interface${staticroutes:+ routes $staticroutes}${mtu:+ mtu $mtu}"
        fi
        ;;
esac
exit 0
EOF
}

_gi_main() {
    set -euo pipefail
    local out=${1:-}
    [ -n "$out" ] || _gi_die "usage: bash $GUEST_IMAGE_SCRIPT OUTPUT_DIR"
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    if [ "${GUEST_IMAGE_FORCE:-0}" != 1 ] &&
        [ "$out/vmlinuz" -nt "$GUEST_IMAGE_SCRIPT" ] && [ "$out/initrd.img" -nt "$GUEST_IMAGE_SCRIPT" ]; then
        _gi_log "up to date: $out/vmlinuz $out/initrd.img"
        return 0
    fi
    if [ -n "${GUEST_IMAGE_CACHE:-}" ]; then
        _GI_CACHE=$GUEST_IMAGE_CACHE
    elif [ -n "${STRATUS_HOME:-}" ]; then
        _GI_CACHE=$STRATUS_HOME/cache
    else
        _GI_CACHE=$out/cache
    fi
    mkdir -p "$_GI_CACHE"
    for tool in dpkg-deb gzip; do
        command -v "$tool" >/dev/null 2>&1 || _gi_die "$tool is needed (apt-get install dpkg gzip)"
    done

    local kdeb bdeb work
    kdeb=$(_gi_kernel_deb)
    bdeb=$(_gi_busybox_deb)
    work=$(mktemp -d "$out/.build.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    _gi_log "unpacking $(basename "$kdeb") and $(basename "$bdeb")"
    dpkg -x "$kdeb" "$work/kernel"
    dpkg -x "$bdeb" "$work/busybox"

    local vmlinuz moddir kver
    vmlinuz=$(find "$work/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
    [ -n "$vmlinuz" ] || _gi_die "no boot/vmlinuz-* in $(basename "$kdeb")"
    kver=${vmlinuz##*/vmlinuz-}
    moddir=$(find "$work/kernel" -path "*/modules/$kver" -type d | head -n 1)
    [ -n "$moddir" ] || _gi_die "no modules for $kver in $(basename "$kdeb")"

    # Module name -> file, then the load order (dependencies first).
    local ko name mod
    while IFS= read -r ko; do
        name=${ko##*/}
        name=${name%%.ko*}
        _GI_KO[${name//-/_}]=$ko
    done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
    for mod in $GUEST_IMAGE_MODULES; do
        mod=${mod//-/_}
        if [ -n "${_GI_KO[$mod]:-}" ]; then
            _gi_visit "$mod"
        else
            _gi_log "module $mod is not in $kver: skipped"
        fi
    done
    _gi_log "modules, in load order: ${_GI_ORDER[*]}"

    # The initramfs tree.
    local root=$work/root d
    for d in bin sbin usr/bin usr/sbin etc proc sys dev run tmp root var/log lib/modules; do
        mkdir -p "$root/$d"
    done
    chmod 1777 "$root/tmp"
    chmod 700 "$root/root"
    cp "$work/busybox/bin/busybox" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    for mod in "${_GI_ORDER[@]}"; do
        ko=${_GI_KO[$mod]}
        case $ko in
            *.xz) xz -dc "$ko" >"$root/lib/modules/$mod.ko" ;;
            *.zst) zstd -dcq "$ko" >"$root/lib/modules/$mod.ko" ;;
            *.gz) gzip -dc "$ko" >"$root/lib/modules/$mod.ko" ;;
            *) cp "$ko" "$root/lib/modules/$mod.ko" ;;
        esac
    done
    printf '%s\n' "${_GI_ORDER[@]}" >"$root/lib/modules/stratus-load-order"
    _gi_write_init "$root/init"
    _gi_write_udhcpc_script "$root/etc/udhcpc.script"
    chmod 755 "$root/init" "$root/etc/udhcpc.script"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    printf 'export PS1="stratus-guest:\\w# "\n' >"$root/etc/profile"

    # cpio (newc) with the host's cpio, else the packaged busybox's.
    local cpio=(cpio --quiet -o -H newc -R 0:0)
    if ! command -v cpio >/dev/null 2>&1; then
        cpio=("$work/busybox/bin/busybox" cpio -o -H newc -R 0:0)
    fi
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "${cpio[@]}") | gzip -9 -n >"$work/initrd.img"
    cp "$vmlinuz" "$work/vmlinuz"
    {
        printf 'kernel=%s\n' "$(dpkg-deb -f "$kdeb" Package) $(dpkg-deb -f "$kdeb" Version)"
        printf 'busybox=%s\n' "$(dpkg-deb -f "$bdeb" Package) $(dpkg-deb -f "$bdeb" Version)"
        printf 'modules=%s\n' "${_GI_ORDER[*]}"
        printf 'cmdline=%s\n' "$GUEST_IMAGE_CMDLINE"
    } >"$work/version"
    chmod 644 "$work/vmlinuz" "$work/initrd.img" "$work/version"
    chmod 755 "$out"
    # Replace the outputs one by one (rename is atomic); initrd.img last, so an
    # interrupted build is not taken for a finished one.
    mv -f "$work/version" "$out/version"
    mv -f "$work/vmlinuz" "$out/vmlinuz"
    mv -f "$work/initrd.img" "$out/initrd.img"
    _gi_log "built $out/vmlinuz ($(stat -c %s "$out/vmlinuz") bytes, $kver)" \
        "and $out/initrd.img ($(stat -c %s "$out/initrd.img") bytes)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    _gi_main "$@"
fi
