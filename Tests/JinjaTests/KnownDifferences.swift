/// Conformance cases that are expected to differ from Jinja2 3.1.6, each
/// with the reason. Everything not listed here must pass.
enum KnownDifferences {
    static let cases: [String: String] = [:]
}
