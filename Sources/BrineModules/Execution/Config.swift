import BrineCore
import OrderedCollections

/// Salt's `config` module: values looked up in the minion's options, then
/// grains, then pillar, then the master's pillar section, then Salt's own
/// defaults for module options (`DEFAULTS` in salt/modules/config.py).
public enum ConfigModule: ExecutionModule {
    public static let name = "config"

    /// Salt 3008's `DEFAULTS`: what `config.get`/`config.option` answer for
    /// module options nobody set.
    static let defaults: Value = [
        "mongo.db": "salt", "mongo.password": "", "mongo.port": 27017, "mongo.user": "",
        "redis.db": "0", "redis.host": "salt", "redis.port": 6379, "test.foo": "unconfigured",
        "ca.cert_base_path": "/etc/pki", "solr.cores": [], "solr.host": "localhost", "solr.port": "8983",
        "solr.baseurl": "/solr", "solr.type": "master", "solr.request_timeout": .null, "solr.init_script": "/etc/rc.d/solr",
        "solr.dih.import_options": ["clean": false, "optimize": true, "commit": true, "verbose": false],
        "solr.backup_path": .null, "solr.num_backups": 1,
        "poudriere.config": "/usr/local/etc/poudriere.conf", "poudriere.config_dir": "/usr/local/etc/poudriere.d",
        "ldap.uri": "", "ldap.server": "localhost", "ldap.port": "389", "ldap.tls": false, "ldap.no_verify": false,
        "ldap.anonymous": true, "ldap.scope": 2, "ldap.attrs": .null, "ldap.binddn": "", "ldap.bindpw": "",
        "hosts.file": "/etc/hosts", "aliases.file": "/etc/aliases",
        "virt": ["tunnel": false, "images": "/srv/salt-images"],
        "docker.exec_driver": "docker-exec",
        "docker.compare_container_networks": ["static": ["Aliases", "Links", "IPAMConfig"],
                                              "automatic": ["IPAddress", "Gateway", "GlobalIPv6Address", "IPv6Gateway"]],
    ]

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("get", doc: "Look up a value (':' traverses) in the options, grains, pillar, master pillar, then Salt's defaults; default if absent. merge=recurse|overwrite merges them all first.",
                          [Parameter("key"), Parameter("default", default: ""), Parameter("delimiter", default: ":"),
                           Parameter("merge", default: .null), Parameter("omit_opts", default: false),
                           Parameter("omit_grains", default: false), Parameter("omit_pillar", default: false),
                           Parameter("omit_master", default: false)]) { a, ctx in
            let key = a.string("key") ?? ""
            let delimiter = a.string("delimiter") ?? ":"
            let sources = try lookupSources(a, ctx)
            if !a["merge"].isNull {
                let lists = ctx.opts.bool("pillar_merge_lists")
                var data = defaults
                for source in sources.reversed() { data = data.merged(with: source, mergeLists: lists) }
                return data.traverse(key, delimiter: delimiter) ?? a["default"]
            }
            for source in sources {
                if let found = source.traverse(key, delimiter: delimiter) { return found }
            }
            return defaults.traverse(key, delimiter: delimiter) ?? a["default"]
        },
        ExecutionFunction("option", doc: "Return a top-level option from the options, grains, pillar, master pillar or Salt's defaults; wildcard=True matches a pattern and returns a dict.",
                          [Parameter("value"), Parameter("default", default: .null), Parameter("omit_opts", default: false),
                           Parameter("omit_grains", default: false), Parameter("omit_pillar", default: false),
                           Parameter("omit_master", default: false), Parameter("omit_all", default: false),
                           Parameter("wildcard", default: false)]) { a, ctx in
            let value = a.string("value") ?? ""
            let wildcard = a.bool("wildcard")
            let fallback = a["default"].isNull ? (wildcard ? Value.emptyMap : "") : a["default"]
            let sources = try lookupSources(a, ctx, omitAll: a.bool("omit_all"))
            guard wildcard else {
                for source in sources { if let found = source[value] { return found } }
                return defaults[value] ?? fallback
            }
            var matched = OrderedDictionary<String, Value>()
            for source in sources.reversed() {
                for (key, found) in source.mapValue ?? [:] where Glob.match(key, value) { matched[key] = found }
            }
            for (key, found) in defaults.mapValue ?? [:] where Glob.match(key, value) && matched[key] == nil { matched[key] = found }
            return matched.isEmpty ? fallback : .map(matched)
        },
        ExecutionFunction("items", doc: "Return the complete options dictionary.") { _, ctx in
            .map(ctx.opts.options)
        },
    ]

    /// Options, grains, pillar and the pillar's `master` section, first
    /// wins, minus those the call omits.
    static func lookupSources(_ a: Arguments, _ ctx: ExecutionContext, omitAll: Bool = false) throws -> [Value] {
        var sources: [Value] = []
        if !omitAll && !a.bool("omit_opts") { sources.append(.map(ctx.opts.options)) }
        if !omitAll && !a.bool("omit_grains") { sources.append(try ctx.grains()) }
        let pillar = omitAll || (a.bool("omit_pillar") && a.bool("omit_master")) ? Value.emptyMap : try ctx.pillar()
        if !omitAll && !a.bool("omit_pillar") { sources.append(pillar) }
        if !omitAll && !a.bool("omit_master") { sources.append(pillar["master"] ?? .emptyMap) }
        return sources
    }
}
