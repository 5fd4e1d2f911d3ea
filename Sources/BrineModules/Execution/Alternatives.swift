import BrineCore
import Foundation

/// Salt's `alternatives` execution module (Debian's update-alternatives):
/// what templates read.
public enum AlternativesModule: ExecutionModule {
    public static let name = "alternatives"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("show_current", doc: "Return the path the named alternative points at, or False.",
                          [Parameter("name")]) { a, _ in
            let name = a.string("name") ?? ""
            guard !name.isEmpty, !name.contains("/"),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/alternatives/" + name)
            else { return false }
            return .string(target)
        },
    ]
}
