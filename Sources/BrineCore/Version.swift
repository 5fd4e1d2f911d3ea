/// Brine's identity, as `test.version` and image labels report it.
public enum Brine {
    public static let version = "0.1.0"
    /// The Salt release whose behaviour Brine follows: what the
    /// `saltversion` and `saltversioninfo` grains say, so that formulas'
    /// version checks (`grains.saltversioninfo >= [3005]`) choose Salt
    /// 3008's paths. Brine's own version is the `brineversion` grain.
    public static let saltVersion = "3008.4"
}
