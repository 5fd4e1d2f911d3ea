import BrineCore
import Testing

@Suite struct ASCIITextTests {
    @Test func replacingTrimmingHex() {
        #expect(ASCIIText.replacing(UInt8(ascii: "."), with: UInt8(ascii: "/"), in: "a.b.é.c") == "a/b/é/c")
        #expect(ASCIIText.replacing(UInt8(ascii: "."), with: UInt8(ascii: "/"), in: "none") == "none")
        #expect(ASCIIText.trimmed("  \t a b \n") == "a b")
        #expect(ASCIIText.trimmed("\u{00A0}x\u{2003}") == "x")  // Python's strip() removes Unicode spaces too
        #expect(ASCIIText.trimmed("   ").isEmpty && ASCIIText.trimmed("").isEmpty)
        #expect(ASCIIText.hex([0, 0x0f, 0xab, 0xff]) == "000fabff")
        #expect(ASCIIText.hex([0xac, 0xde], separator: ":", uppercase: true) == "AC:DE")
    }

    /// Python's json.dumps with ensure_ascii (answers printed by python3).
    @Test func jsonAsciiOnly() {
        #expect(JSON.quote("é😀\u{7f}\n\"", asciiOnly: true) == #""\u00e9\ud83d\ude00\u007f\n\"""#)
        #expect(JSON.quote("é", asciiOnly: false) == "\"é\"")
    }
}
