/// Salt's terminal colours (`salt.utils.color.get_colors`), or empty
/// strings when colour is off.
public struct Colors: Sendable {
    public var lightYellow = "", green = "", cyan = "", red = "", lightGreen = "", lightRed = ""
    public var lightBlue = "", lightMagenta = "", endc = ""

    public static let none = Colors()

    public static let on: Colors = {
        func code(_ c: String) -> String { "\u{1B}[\(c)m" }
        var c = Colors()
        c.lightYellow = code("0;1;33")
        c.green = code("0;32")
        c.cyan = code("0;36")
        c.red = code("0;31")
        c.lightGreen = code("0;1;32")
        c.lightRed = code("0;1;31")
        c.lightBlue = code("0;1;34")
        c.lightMagenta = code("0;1;35")
        c.endc = code("0;0")
        return c
    }()

    public static func choose(_ enabled: Bool) -> Colors { enabled ? .on : .none }
}
