import BrineCore
import Foundation

/// Salt's `status` functions templates read.
public enum StatusModule: ExecutionModule {
    public static let name = "status"

    public static let functions: [ExecutionFunction] = [
        ExecutionFunction("time", doc: "Return the current local time, formatted with strftime (default '%A, %d. %B %Y %I:%M%p').",
                          [Parameter("format", default: "%A, %d. %B %Y %I:%M%p")]) { a, _ in
            .string(LocalTime.format(a.string("format") ?? "%A, %d. %B %Y %I:%M%p", time(nil)))
        },
    ]
}

/// An IPv4 network from an address and a dotted or prefix-length mask.
struct IPv4Network: CustomStringConvertible {
    let base: UInt32
    let prefix: Int

    init?(address: String, mask: String) {
        guard let ip = IPv4Network.parse(address) else { return nil }
        if let length = Int(mask), (0...32).contains(length) {
            prefix = length
        } else if let bits = IPv4Network.parse(mask) {
            let length = bits.nonzeroBitCount
            guard bits == ~(UInt32.max >> UInt32(length)) else { return nil }
            prefix = length
        } else {
            return nil
        }
        base = ip & ~(UInt32.max >> UInt32(prefix))  // a shift by 32 gives 0 in Swift
    }

    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    var description: String {
        "\(base >> 24).\(base >> 16 & 255).\(base >> 8 & 255).\(base & 255)/\(prefix)"
    }
}
