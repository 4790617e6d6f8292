# Copyright 2025 The cinder-ocfs2 Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
# Glance under uWSGI with a file store, and one small test image.

TEST_IMAGE_NAME=ocfs2-test-image

glance_start() {
    glance-manage --config-dir "$STACK_ETC/glance" db_sync >/dev/null 2>&1 \
        || die "glance-manage db_sync failed"
    # chunked input: the client streams a volume upload in 1 MiB chunks.
    uwsgi_start glance "$GLANCE_PORT" glance.wsgi.api:application \
        --env OS_GLANCE_CONFIG_DIR="$STACK_ETC/glance" \
        --http-chunked-input --chunked-input-limit 16777216
    admin_env
    glance_test_image
}

# A 64 MiB qcow2 whose first sector holds a known text, so a volume made
# from it can be checked.
glance_test_image() {
    if openstack image show -f value -c id "$TEST_IMAGE_NAME" >/dev/null 2>&1; then
        return
    fi
    local raw=$STACK_DATA/test-image.raw
    truncate -s 64M "$raw"
    printf 'cinder-ocfs2 test image\n' | dd of="$raw" conv=notrunc status=none
    qemu-img convert -f raw -O qcow2 "$raw" "$STACK_DATA/test-image.qcow2"
    openstack image create --public --disk-format qcow2 --container-format bare \
        --file "$STACK_DATA/test-image.qcow2" "$TEST_IMAGE_NAME" -f value -c id >/dev/null
    say "image $TEST_IMAGE_NAME uploaded"
}
