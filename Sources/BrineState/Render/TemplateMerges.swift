import BrineCore
import BrineModules
import Jinja

/// Salt's merge functions as templates call them, worked on the template's
/// own values rather than converted copies. Two things only survive that
/// way, and real formulas depend on both:
///
/// - Python's dict types: pillar is made of OrderedDicts, maps built in
///   templates or read by `import_yaml` are plain dicts, and Salt's `yaml`
///   filter sorts the keys of the plain ones only. `dictupdate.update` keeps
///   the destination's dicts and puts the source's own objects where the
///   destination had nothing, so a merged map is part plain, part ordered.
/// - Python's sharing: `filter_by` merges into the looked-up entry itself,
///   `defaults.merge` into `dest` unless `in_place=False`.
///
/// Each function is Salt 3008's, step for step (salt/utils/dictupdate.py,
/// salt/utils/data.py `filter_by`, salt/modules/pillar.py `get`,
/// salt/modules/defaults.py `merge`). Forms not covered here (other merge
/// strategies, pillarenv) go to the execution module as before.
enum TemplateMerges {
    static let names: Set<String> = ["grains.filter_by", "pillar.get", "slsutil.merge", "defaults.merge"]

    /// The answer, or nil to let the execution function answer.
    static func call(_ name: String, _ args: Jinja.Arguments, context: ExecutionContext,
                     template: CallContext) throws -> Jinja.Value? {
        switch name {
        case "grains.filter_by": return try filterBy(args, context)
        case "pillar.get": return try pillarGet(args, context, template: template)
        case "slsutil.merge": return try slsutilMerge(args)
        case "defaults.merge": return try defaultsMerge(args)
        default: return nil
        }
    }

    // MARK: - salt.utils.dictupdate

    /// `dictupdate.update(dest, upd, merge_lists=…)`: in place, recursive.
    static func update(_ dest: DictBox, _ upd: DictBox, mergeLists: Bool) -> DictBox {
        let shared = upd.keys.contains { dest.contains($0) }
        guard shared else {
            for (key, value) in upd.pairs { dest[key] = value }
            return dest
        }
        for (key, value) in upd.pairs {
            switch (dest[key], value) {
            case (.dict(let inner)?, .dict(let other)):
                dest[key] = .dict(update(inner, other, mergeLists: mergeLists))
            case (.list(let mine)?, .list(let theirs)) where mergeLists:
                var merged = mine.items.map { $0.deepCopy() }
                for item in theirs.items where !merged.contains(where: { pyEquals($0, item) }) { merged.append(item) }
                dest[key] = .list(ListBox(merged))
            default:
                dest[key] = value
            }
        }
        return dest
    }

    static func isTrue(_ value: Jinja.Value) -> Bool { (try? value.truthy()) ?? false }

    static func pyEquals(_ a: Jinja.Value, _ b: Jinja.Value) -> Bool {
        JinjaBridge.fromJinja(a) == JinjaBridge.fromJinja(b)
    }

    // MARK: - Functions

    /// `grains.filter_by(lookup_dict, grain='os_family', merge=None, default='default', base=None)`.
    static func filterBy(_ args: Jinja.Arguments, _ context: ExecutionContext) throws -> Jinja.Value? {
        guard let bound = try bind(args, ["lookup_dict", "grain", "merge", "default", "base"], function: "grains.filter_by") else { return nil }
        guard case .dict(let lookup)? = bound["lookup_dict"] else { return nil }
        let grain = bound["grain"].map(JinjaBridge.fromJinja)?.pythonString ?? "os_family"
        let defaultKey = bound["default"] ?? .string("default")  // any key type: `default=grains.pythonversion[0]`
        let found = try context.grains().traverse(grain) ?? .list([])
        var result: Jinja.Value? = nil
        for each in found.listValue ?? [found] {
            let text = each.pythonString
            if let match = lookup.pairs.first(where: { Glob.match(text, JinjaBridge.fromJinja($0.0).pythonString) }) {
                result = match.1
            }
            if let current = result, !current.isNone { break }
        }
        if result?.isNone ?? true { result = lookup[defaultKey] }
        if let baseName = bound["base"].flatMap({ $0.isNone ? nil : JinjaBridge.fromJinja($0).pythonString }),
           !baseName.isEmpty, let baseValues = lookup[.string(baseName)] {
            if let current = result, !current.isNone {
                if case .dict(let baseBox) = baseValues {
                    guard case .dict(let currentBox) = current else {
                        throw JinjaError(.templateRuntimeError, "grains.filter_by: filter_by default and look-up values must both be dictionaries.")
                    }
                    guard case .dict(let copied) = Jinja.Value.dict(baseBox).deepCopy() else { return nil }
                    result = .dict(update(copied, currentBox, mergeLists: false))
                }
            } else {
                result = baseValues
            }
        }
        if let merge = bound["merge"], isTrue(merge) {
            guard case .dict(let mergeBox) = merge else {
                throw JinjaError(.templateRuntimeError, "grains.filter_by: filter_by merge argument must be a dictionary.")
            }
            if case .dict(let current)? = result {
                guard case .dict(let copied) = Jinja.Value.dict(mergeBox).deepCopy() else { return nil }
                result = .dict(update(current, copied, mergeLists: false))
            } else if result?.isNone ?? true {
                result = merge
            } else {
                return nil
            }
        }
        return result ?? Jinja.Value.none
    }

    /// `pillar.get(key, default, merge=True)` with a dict default; other
    /// forms are the execution function's.
    static func pillarGet(_ args: Jinja.Arguments, _ context: ExecutionContext,
                          template: CallContext) throws -> Jinja.Value? {
        guard let bound = try bind(args, ["key", "default", "merge", "merge_nested_lists", "delimiter", "pillarenv", "saltenv"],
                                   function: "pillar.get") else { return nil }
        guard bound["pillarenv"]?.isNone ?? true, bound["saltenv"]?.isNone ?? true else { return nil }
        guard let merge = bound["merge"], isTrue(merge) else {
            guard case .object(let shared as SharedPillar) = template.resolve(SharedPillar.variable) else { return nil }
            return sharedPillarValue(bound, try shared.value())
        }
        guard case .dict(let defaults)? = bound["default"] else { return nil }
        let key = bound["key"].map(JinjaBridge.fromJinja)?.pythonString ?? ""
        let delimiter = bound["delimiter"].map(JinjaBridge.fromJinja)?.pythonString ?? ":"
        let found = try context.pillar().traverse(key, delimiter: delimiter) ?? .emptyMap
        guard case .map = found else { return nil }
        let mergeLists = bound["merge_nested_lists"].flatMap { $0.isNone ? nil : isTrue($0) }
            ?? context.opts.bool("pillar_merge_lists")
        guard case .dict(let copied) = Jinja.Value.dict(defaults).deepCopy(),
              case .dict(let pillarBox) = JinjaBridge.toJinja(found, ordered: true) else { return nil }
        return .dict(update(copied, pillarBox, mergeLists: mergeLists))
    }

    /// Salt's `pillar.get` without merge answers pillar's own objects: a
    /// template that changes what it got changes pillar for the files
    /// rendered after it (openvpn's hardening.sls relies on it), though not
    /// their `pillar` variable, which is another copy in Salt. Nil: the
    /// execution function answers (a path through lists).
    static func sharedPillarValue(_ bound: [String: Jinja.Value], _ pillar: Jinja.Value) -> Jinja.Value? {
        guard case .dict(var current) = pillar else { return nil }
        let key = bound["key"].map(JinjaBridge.fromJinja)?.pythonString ?? ""
        let delimiter = bound["delimiter"].map(JinjaBridge.fromJinja)?.pythonString ?? ":"
        let fallback = bound["default"] ?? .string("")
        let parts = key.components(separatedBy: delimiter)
        for (index, part) in parts.enumerated() {
            guard let next = current[.string(part)] else { return fallback }
            if index == parts.count - 1 { return next }
            guard case .dict(let inner) = next else { return nil }  // lists and the rest: the module's traversal
            current = inner
        }
        return fallback
    }

    /// `slsutil.merge(obj_a, obj_b, strategy='smart', renderer='yaml', merge_lists=False)`
    /// for the recurse and overwrite strategies.
    static func slsutilMerge(_ args: Jinja.Arguments) throws -> Jinja.Value? {
        guard let bound = try bind(args, ["obj_a", "obj_b", "strategy", "renderer", "merge_lists"], function: "slsutil.merge") else { return nil }
        guard case .dict(let a)? = bound["obj_a"], case .dict(let b)? = bound["obj_b"] else { return nil }
        var strategy = bound["strategy"].map(JinjaBridge.fromJinja)?.pythonString ?? "smart"
        let renderer = bound["renderer"].map(JinjaBridge.fromJinja)?.pythonString ?? "yaml"
        let mergeLists = bound["merge_lists"].map(isTrue) ?? false
        if strategy == "smart" {
            strategy = renderer.split(separator: "|").last == "yamlex" || renderer.hasPrefix("yamlex_") ? "aggregate" : "recurse"
        }
        switch strategy {
        case "list", "aggregate":
            return nil
        case "overwrite":
            for (key, value) in b.pairs where a.contains(key) { a[key] = value }
            return mergeRecurse(a, b, mergeLists: mergeLists)
        case "none":
            return mergeRecurse(a, b, mergeLists: false)
        default:
            return mergeRecurse(a, b, mergeLists: mergeLists)
        }
    }

    static func mergeRecurse(_ a: DictBox, _ b: DictBox, mergeLists: Bool) -> Jinja.Value? {
        guard case .dict(let copied) = Jinja.Value.dict(a).deepCopy() else { return nil }
        return .dict(update(copied, b, mergeLists: mergeLists))
    }

    /// `defaults.merge(dest, src, merge_lists=False, in_place=True, convert_none=True)`.
    static func defaultsMerge(_ args: Jinja.Arguments) throws -> Jinja.Value? {
        guard let bound = try bind(args, ["dest", "src", "merge_lists", "in_place", "convert_none"], function: "defaults.merge") else { return nil }
        let convertNone = bound["convert_none"].map(isTrue) ?? true
        let inPlace = bound["in_place"].map(isTrue) ?? true
        var src = bound["src"] ?? .none
        if src.isNone && convertNone { src = .dict(DictBox()) }
        var dest = bound["dest"] ?? .none
        if dest.isNone && convertNone {
            if inPlace { throw JinjaError(.templateRuntimeError, "defaults.merge: Can't perform in-place merge into NoneType") }
            dest = .dict(DictBox())
        }
        guard case .dict(let destBox) = inPlace ? dest : dest.deepCopy(), case .dict(let srcBox) = src else { return nil }
        return .dict(update(destBox, srcBox, mergeLists: bound["merge_lists"].map(isTrue) ?? false))
    }

    /// Python's argument binding for these signatures: positional first,
    /// then keywords; an unknown keyword leaves the call to the module.
    static func bind(_ args: Jinja.Arguments, _ names: [String], function: String) throws -> [String: Jinja.Value]? {
        guard args.positional.count <= names.count else {
            throw JinjaError(.templateRuntimeError, "\(function): takes at most \(names.count) arguments (\(args.positional.count) given)")
        }
        var bound: [String: Jinja.Value] = [:]
        for (index, value) in args.positional.enumerated() { bound[names[index]] = value }
        for (name, value) in args.keywords {
            guard names.contains(name) else { return nil }
            guard bound[name] == nil else {
                throw JinjaError(.templateRuntimeError, "\(function): got multiple values for argument '\(name)'")
            }
            bound[name] = value
        }
        return bound
    }
}
