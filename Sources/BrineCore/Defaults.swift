import OrderedCollections

/// Salt's default options for the options Brine supports, with their types.
///
/// The table is the contract: an option not listed is unknown (a warning), a
/// listed one with the wrong type is an error naming the key and the file.
enum Defaults {
    typealias Entry = (key: String, type: OptionType, value: Value)

    static let common: [Entry] = [
        ("root_dir", .string, "/"),
        ("user", .string, "root"),
        ("log_level", .string, "warning"),
        ("log_level_logfile", .string, "warning"),
        ("log_fmt_console", .string, "[%(levelname)-8s] %(message)s"),
        ("log_datefmt", .string, "%H:%M:%S"),
        ("log_fmt_logfile", .string, "%(asctime)s,%(msecs)03d [%(name)-17s:%(lineno)-4d][%(levelname)-8s][%(process)d] %(message)s"),
        ("log_datefmt_logfile", .string, "%Y-%m-%d %H:%M:%S"),
        ("file_roots", .map, ["base": ["/srv/salt", "/srv/spm/salt"]]),
        ("pillar_roots", .map, ["base": ["/srv/pillar", "/srv/spm/pillar"]]),
        ("state_top", .string, "top.sls"),
        ("default_top", .string, "base"),
        ("top_file_merging_strategy", .string, "merge"),
        ("env_order", .list, []),
        ("renderer", .string, "jinja|yaml"),
        ("failhard", .bool, false),
        ("state_output", .string, "full"),
        ("state_verbose", .bool, true),
        ("state_output_diff", .bool, false),
        ("state_tabular", .bool, false),
        ("state_aggregate", .any, false),
        ("state_events", .bool, false),
        ("hash_type", .string, "sha256"),
        ("pillar_source_merging_strategy", .string, "smart"),
        ("pillar_merge_lists", .bool, false),
        ("pillar_safe_render_error", .bool, true),
        ("pillarenv", .any, .null),
        ("saltenv", .any, .null),
        ("ext_pillar", .list, []),
        ("ext_pillar_first", .bool, false),
        ("jinja_env", .map, [:]),
        ("jinja_sls_env", .map, [:]),
        ("jinja_trim_blocks", .bool, false),
        ("jinja_lstrip_blocks", .bool, false),
        ("color", .bool, true),
        ("color_theme", .string, ""),
        ("output", .string, "nested"),
        ("output_indent", .any, .null),
        ("timeout", .int, 5),
        ("gather_job_timeout", .int, 10),
        ("hash_algorithm", .string, "sha256"),
        ("cache_jobs", .bool, false),
        ("keep_jobs", .int, 24),
        ("transport", .string, "tcp"),
        ("ipv6", .any, false),
        ("include", .stringOrList, []),
        ("default_include", .string, ""),
        ("enable_fqdns_grains", .bool, false),
        ("grains_cache", .bool, false),
        ("refresh_interval", .int, 600),
        ("state_run_parallel", .bool, false),
        // Brine's: run the states of a tree some of whose states name missing functions (Salt's way).
        ("partial_compile", .bool, false),
    ]

    static let master: [Entry] = [
        ("interface", .string, "0.0.0.0"),
        ("publish_port", .int, 4505),
        ("ret_port", .int, 4506),
        ("pidfile", .string, "/var/run/brine-master.pid"),
        ("pki_dir", .string, "/etc/brine/pki/master"),
        ("cachedir", .string, "/var/cache/brine/master"),
        ("sock_dir", .string, "/var/run/brine/master"),
        ("log_file", .string, "/var/log/brine/master"),
        ("key_logfile", .string, "/var/log/brine/key"),
        ("token_dir", .string, "/var/cache/brine/master/tokens"),
        ("extension_modules", .string, "/var/cache/brine/master/extmods"),
        ("autosign_file", .string, ""),
        ("autoreject_file", .string, ""),
        ("auto_accept", .bool, false),
        ("open_mode", .bool, false),
        ("worker_threads", .int, 5),
        ("job_cache", .any, true),
        ("master_job_cache", .string, "local_cache"),
        ("file_recv", .bool, false),
        ("file_buffer_size", .int, 1_048_576),
        ("nodegroups", .map, [:]),
        ("publisher_acl", .map, [:]),
        ("publisher_acl_blacklist", .map, [:]),
        ("client_acl_blacklist", .map, [:]),
        ("external_auth", .map, [:]),
        ("token_expire", .int, 43200),
        ("auth.pam.service", .string, "login"),
        ("minion_data_cache", .bool, true),
        ("max_minions", .int, 0),
        ("con_cache", .bool, false),
        ("presence_events", .bool, false),
        ("monitor", .map, [:]),
        ("rest_api", .map, [:]),
        ("http_port", .int, 8000),
        ("max_frame_size", .int, 16_777_216),
        ("event_return", .any, ""),
        // Several masters as one (issue 19): the cluster's shared key pair lives in cluster_pki_dir.
        ("cluster_id", .string, ""),
        ("cluster_pki_dir", .string, ""),
        ("cluster_peers", .list, []),
        // postgresql://USER[:PASS]@HOST:PORT/DB: the masters of a cluster share keys, jobs and returns there.
        ("cluster_database", .string, ""),
        // This master's name in the cluster (default: host name:ret_port).
        ("master_id", .string, ""),
        // Seconds a job stays deliverable to a minion that was not connected when it was published (Brine's own).
        ("cluster_job_ttl", .int, 300),
    ]

    static let minion: [Entry] = [
        ("master", .stringOrList, "salt"),
        // With several masters: one at a time, the next when it goes away (failover).
        ("master_type", .string, "str"),
        ("master_alive_interval", .int, 0),
        ("random_master", .bool, false),
        ("master_failback", .bool, false),
        ("master_failback_interval", .int, 0),
        ("minion_jid_queue_hwm", .int, 100),
        ("refresh_interval", .int, 0),
        ("monitor", .map, [:]),
        ("uptime", .map, [:]),
        ("master_port", .int, 4506),
        ("id", .any, .null),
        ("pidfile", .string, "/var/run/brine-minion.pid"),
        ("pki_dir", .string, "/etc/brine/pki/minion"),
        ("cachedir", .string, "/var/cache/brine/minion"),
        ("sock_dir", .string, "/var/run/brine/minion"),
        ("log_file", .string, "/var/log/brine/minion"),
        ("extension_modules", .string, "/var/cache/brine/minion/extmods"),
        ("file_client", .string, "remote"),
        ("local", .bool, false),
        ("grains", .map, [:]),
        ("master_finger", .string, ""),
        ("acceptance_wait_time", .float, 10),
        ("acceptance_wait_time_max", .float, 0),
        ("random_reauth_delay", .float, 10),
        ("auth_timeout", .int, 60),
        ("recon_default", .int, 1000),
        ("recon_max", .int, 10000),
        ("startup_states", .string, ""),
        ("test", .bool, false),
        ("process_count_max", .int, -1),
        ("multiprocessing", .bool, true),
        ("mine_functions", .map, [:]),
        ("pillar", .map, [:]),
        ("file_ignore_regex", .list, []),
        ("file_ignore_glob", .list, []),
        ("append_domain", .string, ""),
    ]

    static func entries(for role: Role) -> [Entry] {
        common + (role == .master ? master : minion)
    }

    static func options(for role: Role) -> OrderedDictionary<String, Value> {
        var result = OrderedDictionary<String, Value>()
        for entry in entries(for: role) { result[entry.key] = entry.value }
        return result
    }

    static func types(for role: Role) -> [String: OptionType] {
        var result: [String: OptionType] = [:]
        for entry in entries(for: role) { result[entry.key] = entry.type }
        return result
    }
}
