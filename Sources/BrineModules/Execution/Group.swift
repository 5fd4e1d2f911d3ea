import BrineCore
import Foundation

/// Salt's `group` execution module (`groupadd` on Linux).
public enum GroupModule: ExecutionModule {
    public static let name = "group"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("info", doc: "Return group information: name, passwd, gid, members; {} if absent.", [Parameter("name")]) { a, _ in
            guard let gr = getgrnam(a.string("name") ?? "") else { return .emptyMap }
            return format(gr.pointee)
        },
        ExecutionFunction("getent", doc: "Return information on every group.") { _, _ in
            var groups: [Value] = []
            setgrent()
            while let gr = getgrent() { groups.append(format(gr.pointee)) }
            endgrent()
            return .list(groups)
        },
    ]

    static func format(_ gr: group) -> Value {
        var members: [Value] = []
        if var cursor = gr.gr_mem {
            while let member = cursor.pointee {
                members.append(.string(String(cString: member)))
                cursor += 1
            }
        }
        return .map(["name": .string(String(cString: gr.gr_name)), "passwd": .string(String(cString: gr.gr_passwd)),
                     "gid": .int(Int(gr.gr_gid)), "members": .list(members)])
    }
}
