/// Brine's identity, as `test.version` and image labels report it.
public enum Brine {
    public static let version = "0.1.0"
}
