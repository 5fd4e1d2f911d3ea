import BrineCore
import Foundation

/// Salt's `user` execution module (`useradd` on Linux): what formulas read
/// from templates. Users come from the system's databases (getpwnam), so
/// NSS sources count as they do for Salt.
public enum UserModule: ExecutionModule {
    public static let name = "user"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("info", doc: "Return user information: uid, gid, home, shell, GECOS fields and groups; {} if absent.",
                          [Parameter("name")]) { a, _ in
            info(a.string("name") ?? "")
        },
        ExecutionFunction("list_groups", doc: "Return the sorted names of the groups the user is in, primary group included.",
                          [Parameter("name")]) { a, _ in
            .list(groups(of: a.string("name") ?? "").map(Value.string))
        },
        ExecutionFunction("primary_group", doc: "Return the name of the user's primary group.", [Parameter("name")]) { a, _ in
            guard let pw = getpwnam(a.string("name") ?? ""), let gr = getgrgid(pw.pointee.pw_gid) else { return "" }
            return .string(String(cString: gr.pointee.gr_name))
        },
        ExecutionFunction("list_users", doc: "Return the sorted names of all users.") { _, _ in
            var names: [String] = []
            setpwent()
            while let pw = getpwent() { names.append(String(cString: pw.pointee.pw_name)) }
            endpwent()
            return .list(Array(Set(names)).sorted().map(Value.string))
        },
    ]

    /// Salt's `_format_info`: the GECOS field split into five parts.
    static func info(_ name: String) -> Value {
        guard !name.isEmpty, let pw = getpwnam(name) else { return .emptyMap }
        var gecos = String(cString: pw.pointee.pw_gecos).split(separator: ",", maxSplits: 4, omittingEmptySubsequences: false)
            .map(String.init)
        while gecos.count < 5 { gecos.append("") }
        return .map([
            "gid": .int(Int(pw.pointee.pw_gid)),
            "groups": .list(groups(of: name).map(Value.string)),
            "home": .string(String(cString: pw.pointee.pw_dir)),
            "name": .string(String(cString: pw.pointee.pw_name)),
            "passwd": .string(String(cString: pw.pointee.pw_passwd)),
            "shell": .string(String(cString: pw.pointee.pw_shell)),
            "uid": .int(Int(pw.pointee.pw_uid)),
            "fullname": .string(gecos[0]), "roomnumber": .string(gecos[1]), "workphone": .string(gecos[2]),
            "homephone": .string(gecos[3]), "other": .string(gecos[4]),
        ])
    }

    /// Salt's `get_group_list`: getgrouplist, names sorted.
    static func groups(of user: String) -> [String] {
        guard !user.isEmpty, let pw = getpwnam(user) else { return [] }
        let primary = pw.pointee.pw_gid
        var count: Int32 = 64
        var ids = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, primary, &ids, &count) < 0 {
            guard count > 0, count <= 65536 else { return [] }
            ids = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user, primary, &ids, &count) >= 0 else { return [] }
        }
        var names = Set<String>()
        for id in ids.prefix(Int(max(0, count))) {
            if let gr = getgrgid(id) { names.insert(String(cString: gr.pointee.gr_name)) }
        }
        return names.sorted()
    }
}
