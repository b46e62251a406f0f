# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# Image (Glance v2 on port 9292): stratus-image-registry owns the database and
# answers the API over RPC; stratus-image-api streams image data to and from the
# filesystem store under $STRATUS_DATA/images.
#
# Hooks (see lib/identity.sh): image_configure writes $STRATUS_ETC/image/,
# image_init syncs the database and registers the catalog entry, image_start
# starts the registry then the API, waits until the API lists images (which
# needs the registry) and uploads the test image once.

IMAGE_PORT=${IMAGE_PORT:-9292}
IMAGE_ETC=$STRATUS_ETC/image
IMAGE_CONF=$IMAGE_ETC/image.conf
IMAGE_PASTE=$IMAGE_ETC/api-paste.ini
IMAGE_API_DAEMON=stratus-image-api
IMAGE_REGISTRY_DAEMON=stratus-image-registry
IMAGE_API_LOG=$STRATUS_LOGS/image-api.log
IMAGE_REGISTRY_LOG=$STRATUS_LOGS/image-registry.log
IMAGE_DATA=$STRATUS_DATA/images
IMAGE_PUBLIC_URL=http://$SERVICE_HOST:$IMAGE_PORT
IMAGE_LOCAL_URL=http://127.0.0.1:$IMAGE_PORT
# Optional SQLAlchemy URL; unset means $STRATUS_DATA/image.sqlite.
DATABASE_URL_IMAGE=${DATABASE_URL_IMAGE:-}
IMAGE_INIT_STAMP=$STRATUS_DATA/image.init-stamp
# Where image data goes: "swift" (the object store, in the image service's own
# account) when the object store runs here, else "file" (under $IMAGE_DATA/data).
if [ -z "${IMAGE_STORE:-}" ]; then
    if is_service_enabled objectstore; then IMAGE_STORE=swift; else IMAGE_STORE=file; fi
fi
# The small public image every cloud gets (the compute issue replaces it with
# a bootable guest).
IMAGE_TEST_NAME=${IMAGE_TEST_NAME:-stratus-tiny-raw}
# The bootable guest every cloud gets (with -kernel and -ramdisk images).
IMAGE_GUEST_NAME=${IMAGE_GUEST_NAME:-stratus-guest}
# shellcheck source=devstack/lib/guest_image.sh
source "$(dirname "${BASH_SOURCE[0]}")/guest_image.sh"

image_packages() { :; }

image_configure() {
    is_service_enabled identity ||
        die "the image service needs identity on this machine: ENABLED_SERVICES=\"identity image\""
    mkdir -p "$IMAGE_ETC" "$IMAGE_DATA/data" "$IMAGE_DATA/staging"
    case $IMAGE_STORE in
        file) ;;
        swift) is_service_enabled objectstore ||
            die "IMAGE_STORE=swift needs the object store: add objectstore to ENABLED_SERVICES" ;;
        *) die "IMAGE_STORE must be file or swift, not '$IMAGE_STORE'" ;;
    esac
    # The log file is given per daemon on the command line (--log-file): both
    # daemons read this one file.
    write_if_changed "$IMAGE_CONF" 640 <<EOF
# Written by devstack/stack.sh: edits are overwritten on the next run.
[DEFAULT]
state_path = $STRATUS_DATA
log_dir = $STRATUS_LOGS
debug = $STRATUS_DEBUG
transport_url = $TRANSPORT_URL

[database]
$(if [ -n "$DATABASE_URL_IMAGE" ]; then
    printf 'connection = %s' "$DATABASE_URL_IMAGE"
else
    printf '# connection unset: SQLite file under state_path (image.sqlite)'
fi)

[api]
bind_host = 0.0.0.0
bind_port = $IMAGE_PORT
public_endpoint = $IMAGE_PUBLIC_URL

[store]
default_store = $IMAGE_STORE
filesystem_store_datadir = $IMAGE_DATA/data
swift_store_container = images
swift_store_large_object_chunk_size = ${IMAGE_SWIFT_CHUNK_MIB:-200}

# The image service's own credentials for the object store (its account
# AUTH_<service project>; the service user has an operator role there).
$(authtoken_section image | sed -e 's/^\[keystone_authtoken\]/[swift_store]/' -e '/^www_authenticate_uri/d')
region_name = $REGION_NAME
valid_interfaces = internal,public

[image]
staging_dir = $IMAGE_DATA/staging
require_image_format_match = ${IMAGE_REQUIRE_FORMAT_MATCH:-true}

$(authtoken_section image)

[oslo_messaging_notifications]
driver = messagingv2
EOF
    [ "$FILE_CHANGED" = 1 ] && info "wrote $IMAGE_CONF"
    [ -f "$STRATUS_REPO/etc/image/api-paste.ini" ] ||
        die "$STRATUS_REPO/etc/image/api-paste.ini is missing from the checkout"
    write_if_changed "$IMAGE_PASTE" 644 <"$STRATUS_REPO/etc/image/api-paste.ini"
    [ "$FILE_CHANGED" = 1 ] && info "wrote $IMAGE_PASTE"
    return 0
}

# ---------------------------------------------------------------------------
# Database and catalog
# ---------------------------------------------------------------------------

image_manage() {
    quiet "$(venv_bin stratus-manage)" image --config-file "$IMAGE_CONF" "$@"
}

_image_init_hash() {
    {
        hash_files "$IMAGE_CONF" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/image" "$STRATUS_REPO/common"
        printf '%s\n' "$REGION_NAME" "$IMAGE_PUBLIC_URL"
    } | sha256sum | cut -c1-32
}

image_init() {
    mkdir -p "$IMAGE_DATA/data" "$IMAGE_DATA/staging"
    if [ -z "$DATABASE_URL_IMAGE" ] && [ -s "$STRATUS_DATA/image.sqlite" ] &&
        [ -f "$IMAGE_INIT_STAMP" ] && [ "$(cat "$IMAGE_INIT_STAMP")" = "$(_image_init_hash)" ]; then
        info "database is up to date; skipping db sync"
    else
        rm -f "$IMAGE_INIT_STAMP"
        info "stratus-manage image db sync"
        image_manage db sync
        _image_init_hash >"$IMAGE_INIT_STAMP"
    fi
    ensure_catalog_service glance image "Image service" "$IMAGE_PUBLIC_URL"
}

# ---------------------------------------------------------------------------
# Daemons
# ---------------------------------------------------------------------------

# Wait until the API lists images with a token: the registry answers over RPC
# and the API validates tokens as its service user.  Both daemons must live.
# $1: where this start's lines begin in the registry's log.
_image_wait_registry() {
    local start code
    start=$(now_ms)
    rest_admin_token
    CURRENT_LOG=$IMAGE_REGISTRY_LOG
    CURRENT_LOG_OFFSET=${1:-0}
    CURRENT_SEE_ALSO=$IMAGE_API_LOG
    while :; do
        daemon_pid "$IMAGE_REGISTRY_DAEMON" >/dev/null ||
            die "$IMAGE_REGISTRY_DAEMON exited; see $IMAGE_REGISTRY_LOG"
        daemon_pid "$IMAGE_API_DAEMON" >/dev/null ||
            die "$IMAGE_API_DAEMON exited; see $IMAGE_API_LOG"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "X-Auth-Token: $REST_ADMIN_TOKEN" \
            "$IMAGE_LOCAL_URL/v2/images?limit=1" 2>/dev/null || true)
        [ "$code" = 200 ] && break
        if [ $(($(now_ms) - start)) -ge $((SERVICE_TIMEOUT * 1000)) ]; then
            [ "$code" = 000 ] && code="no answer within 10s" || code="HTTP $code"
            die "GET $IMAGE_LOCAL_URL/v2/images still gets $code after ${SERVICE_TIMEOUT}s: the API needs the registry over RabbitMQ (at ${TRANSPORT_URL##*@}) and the glance user in identity; see $IMAGE_REGISTRY_LOG and $IMAGE_API_LOG"
        fi
        sleep 0.2
    done
    local fp=$STRATUS_RUN/$IMAGE_REGISTRY_DAEMON.fingerprint
    [ -f "$fp.pending" ] && mv -f "$fp.pending" "$fp"
    info "the API lists images through the registry ($(fmt_ms $(($(now_ms) - start))))"
    CURRENT_LOG=$STACK_LOG
    CURRENT_LOG_OFFSET=0
    CURRENT_SEE_ALSO=''
}

# _image_existing NAME: the id of the active image NAME, empty when there is none
# (unfinished ones left by an interrupted run are deleted).
_image_existing() {
    local listing id
    listing=$(rest_get "$IMAGE_LOCAL_URL/v2/images?name=$1") ||
        die "cannot list images at $IMAGE_LOCAL_URL; see $IMAGE_API_LOG"
    id=$(json_expr '[i["id"] for i in d["images"] if i["status"] == "active"][:1]' <<<"$listing")
    if [ -n "$id" ]; then
        echo "$id"
        return 0
    fi
    for id in $(json_expr '[i["id"] for i in d["images"]]' <<<"$listing"); do
        info "deleting the unfinished image $id ($1)" >&2
        quiet admin_openstack image delete "$id" >&2
    done
}

# _image_upload NAME FILE ARGS...: upload FILE as public image NAME with the
# openstack CLI's ARGS (formats, properties); prints its id.
_image_upload() {
    local name=$1 file=$2
    shift 2
    CURRENT_SEE_ALSO=$IMAGE_API_LOG
    admin_openstack image create --file "$file" --public "$@" -f value -c id "$name" ||
        die "uploading image $name failed; see $STACK_LOG and $IMAGE_API_LOG"
    CURRENT_SEE_ALSO=''
}

# Upload $IMAGE_TEST_NAME (public, raw, bare) unless an active one exists.
_image_upload_test_image() {
    local file
    if [ -n "$(_image_existing "$IMAGE_TEST_NAME")" ]; then
        info "test image $IMAGE_TEST_NAME exists"
        return 0
    fi
    file=$(mktemp "$STRATUS_DATA/$IMAGE_TEST_NAME.XXXXXX.img")
    # 1 MiB of zeros with a marker at the start.
    head -c 1048576 /dev/zero >"$file"
    printf 'STRATUS TEST IMAGE %s\n' "$IMAGE_TEST_NAME" | dd of="$file" conv=notrunc status=none
    info "uploading test image $IMAGE_TEST_NAME (1 MiB raw, public)"
    _image_upload "$IMAGE_TEST_NAME" "$file" --disk-format raw --container-format bare >/dev/null
    rm -f "$file"
}

# The bootable guest (devstack/lib/guest_image.sh): its kernel (aki) and ramdisk
# (ari), and $IMAGE_GUEST_NAME, a 1 MiB raw disk (ami) naming both and the
# kernel command line, booted directly by compute. Built once, cached.
_image_upload_guest_image() {
    local dir=$STRATUS_DATA/guest-image kernel ramdisk disk
    if [ -n "$(_image_existing "$IMAGE_GUEST_NAME")" ]; then
        info "guest image $IMAGE_GUEST_NAME exists"
        return 0
    fi
    info "building the guest image in $dir (Debian's cloud kernel, busybox initramfs)"
    quiet guest_image_build "$dir" ||
        die "building the guest image failed; see $STACK_LOG"
    kernel=$(_image_existing "$IMAGE_GUEST_NAME-kernel")
    [ -n "$kernel" ] || kernel=$(_image_upload "$IMAGE_GUEST_NAME-kernel" "$dir/vmlinuz" \
        --disk-format aki --container-format aki)
    ramdisk=$(_image_existing "$IMAGE_GUEST_NAME-ramdisk")
    [ -n "$ramdisk" ] || ramdisk=$(_image_upload "$IMAGE_GUEST_NAME-ramdisk" \
        "$dir/initrd.img" --disk-format ari --container-format ari)
    [ -n "$kernel" ] && [ -n "$ramdisk" ] ||
        die "uploading the guest kernel or ramdisk failed; see $STACK_LOG and $IMAGE_API_LOG"
    disk=$(mktemp "$STRATUS_DATA/$IMAGE_GUEST_NAME.XXXXXX.img")
    head -c 1048576 /dev/zero >"$disk"
    info "uploading guest image $IMAGE_GUEST_NAME (kernel $kernel, ramdisk $ramdisk)"
    _image_upload "$IMAGE_GUEST_NAME" "$disk" --disk-format ami --container-format ami \
        --property kernel_id="$kernel" --property ramdisk_id="$ramdisk" \
        --property os_command_line="$GUEST_IMAGE_CMDLINE" >/dev/null
    rm -f "$disk"
}

image_start() {
    local fingerprint body registry_offset
    fingerprint=$({
        hash_files "$IMAGE_CONF" "$IMAGE_PASTE" "$STRATUS_INSTALL_STAMP"
        hash_tree "$STRATUS_REPO/image" "$STRATUS_REPO/common"
    } | sha256sum | cut -c1-32)
    # The registry first: the API's first requests need it.
    start_daemon "$IMAGE_REGISTRY_DAEMON" "$fingerprint" "$IMAGE_REGISTRY_LOG" - \
        "$(venv_bin "$IMAGE_REGISTRY_DAEMON")" --config-file "$IMAGE_CONF" \
        --log-file "$IMAGE_REGISTRY_LOG"
    registry_offset=$DAEMON_LOG_OFFSET
    start_daemon "$IMAGE_API_DAEMON" "$fingerprint" "$IMAGE_API_LOG" "$IMAGE_PORT" \
        "$(venv_bin "$IMAGE_API_DAEMON")" --config-file "$IMAGE_CONF" --log-file "$IMAGE_API_LOG"
    wait_for_http "$IMAGE_API_DAEMON" "$IMAGE_LOCAL_URL/healthcheck" "$IMAGE_API_LOG"
    CURRENT_LOG=$IMAGE_API_LOG
    CURRENT_LOG_OFFSET=$DAEMON_LOG_OFFSET
    body=$(curl -sS --max-time 5 "$IMAGE_LOCAL_URL/" 2>&1 || true)
    case $body in
        *'"v2.'*) ;;
        *) die "$IMAGE_LOCAL_URL/ does not return the image version list (got: ${body:0:200}); see $IMAGE_API_LOG" ;;
    esac
    CURRENT_LOG_OFFSET=0
    _image_wait_registry "$registry_offset"
    _image_upload_test_image
    _image_upload_guest_image
}

image_summary() {
    say "  Image API:     $IMAGE_PUBLIC_URL   (logs $IMAGE_API_LOG, $IMAGE_REGISTRY_LOG; config $IMAGE_CONF)"
    say "                 images $IMAGE_TEST_NAME and $IMAGE_GUEST_NAME (bootable); data in $IMAGE_DATA/data"
}
