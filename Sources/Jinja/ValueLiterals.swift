/// Literal conveniences so hosts can write contexts naturally:
/// `["name": "web01", "ports": [80, 443], "tls": true, "extra": nil]`.
extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .none }
    public init(arrayLiteral elements: Value...) { self = .list(ListBox(elements)) }
    /// Keys keep the order written, like a Python dict literal.
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .dict(DictBox(elements.map { (Value.string($0.0), $0.1) }))
    }
}
