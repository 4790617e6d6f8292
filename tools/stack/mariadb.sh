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

# A private MariaDB instance (own datadir and socket) on 127.0.0.1.

mariadb_start() {
    local datadir=$STACK_DATA/mysql
    if [ ! -d "$datadir/mysql" ]; then
        say "initialising MariaDB in $datadir"
        mariadb-install-db --no-defaults --user=root --datadir="$datadir" \
            --auth-root-authentication-method=socket >"$STACK_LOGS/mariadb-install.log" 2>&1 \
            || die "mariadb-install-db failed: see $STACK_LOGS/mariadb-install.log"
    fi
    start_daemon mariadb mariadbd --no-defaults --user=root --datadir="$datadir" \
        --bind-address=127.0.0.1 --port="$MYSQL_PORT" --socket="$MYSQL_SOCKET" \
        --pid-file="$STACK_RUN/mariadbd.pid" --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --max-connections=1000 --innodb-flush-log-at-trx-commit=2 \
        --innodb-buffer-pool-size=256M
    wait_for MariaDB 60 mariadb --no-defaults --socket="$MYSQL_SOCKET" -e 'select 1'
    local db
    for db in keystone glance cinder; do
        mariadb_database "$db" "$db"
    done
    if [ "$STACK_NOVA" = 1 ]; then
        for db in placement neutron; do
            mariadb_database "$db" "$db"
        done
        # nova's API database, its cell1 database and cell0 (where
        # instances that failed scheduling live).
        for db in nova_api nova nova_cell0; do
            mariadb_database "$db" nova
        done
    fi
}

# mariadb_database DB USER: the database and a user with every right on it.
mariadb_database() {
    mariadb --no-defaults --socket="$MYSQL_SOCKET" -e "
        CREATE DATABASE IF NOT EXISTS $1;
        CREATE USER IF NOT EXISTS '$2'@'%' IDENTIFIED BY '$STACK_PASSWORD';
        GRANT ALL PRIVILEGES ON $1.* TO '$2'@'%';"
}
