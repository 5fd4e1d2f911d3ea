import BrineCore
import BrineModules

/// The variables Salt derives from a template's path and SLS name
/// (`generate_sls_context` in salt/utils/templates.py, 3008): `tplpath`,
/// `tplfile`, `tpldir` (`.` at the top of the roots), `tpldot`, `slspath`,
/// `slsdotpath`, `slscolonpath` and `sls_path` — all from the file's
/// directory, so `a/b.sls` has `slspath` `a` and `a/b/init.sls` has `a/b`.
/// Salt defines no `tplroot`; formulas compute it from `tpldir`.
enum SLSContext {
    static func variables(templatePath: String, sls: String) -> Renderer.Variables {
        var slspath = ASCIIText.replacing(UInt8(ascii: "."), with: UInt8(ascii: "/"), in: sls)
        while slspath.hasSuffix("/") { slspath.removeLast() }
        var template = templatePath
        if sls.isEmpty {
            template = String(template.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        } else if template.hasSuffix(slspath + ".sls") {
            template = String(template.suffix(slspath.count + 4))
        } else if template.hasSuffix(slspath + "/init.sls") {
            template = String(template.suffix(slspath.count + 9))
        } else {
            // Not an SLS file (a template rendered on behalf of one).
            let parent = FileOps.dirname(sls)
            return ["tplpath": .string(templatePath), "tplfile": .string(sls), "tpldir": .string(parent.isEmpty ? "." : parent)]
        }
        slspath = template.utf8.contains(UInt8(ascii: "/")) ? FileOps.dirname(template) : ""
        let slash = UInt8(ascii: "/")
        let dotted = ASCIIText.replacing(slash, with: UInt8(ascii: "."), in: slspath)
        return [
            "tplpath": .string(templatePath), "tplfile": .string(template), "tpldir": .string(slspath.isEmpty ? "." : slspath),
            "tpldot": .string(dotted), "slspath": .string(slspath), "slsdotpath": .string(dotted),
            "slscolonpath": .string(ASCIIText.replacing(slash, with: UInt8(ascii: ":"), in: slspath)),
            "sls_path": .string(ASCIIText.replacing(slash, with: UInt8(ascii: "_"), in: slspath)),
        ]
    }
}
