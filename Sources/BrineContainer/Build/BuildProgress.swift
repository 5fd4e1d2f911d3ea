import BrineCore
import Foundation
import Synchronization

/// Prints a build as it goes: one line per step and per finished state on
/// stdout, and on a terminal a progress bar on stderr redrawn under them.
public final class BuildProgress: Sendable {
    let colors: Colors
    let terminal: Bool
    private let counts = Mutex<(done: Int, total: Int, label: String)>((0, 0, ""))

    public init(colors: Colors, terminal: Bool) {
        self.colors = colors
        self.terminal = terminal
    }

    public func expect(states total: Int) {
        counts.withLock { $0 = (0, total, "") }
    }

    public func line(_ text: String) {
        clearBar()
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
        drawBar()
    }

    public func warning(_ text: String) {
        clearBar()
        FileHandle.standardError.write(Data((text + "\n").utf8))
        drawBar()
    }

    /// One finished state, reported on the build channel by the step inside the container.
    func state(tag: String, result ret: Value) {
        let changed = !(ret["changes"]?.mapValue?.isEmpty ?? true)
        let word: String
        switch ret["result"] {
        case .bool(false)?: word = "\(colors.red)failed \(colors.endc)"
        case .null?, nil: word = "\(colors.lightYellow)test   \(colors.endc)"
        default: word = changed ? "\(colors.cyan)changed\(colors.endc)" : "\(colors.green)ok     \(colors.endc)"
        }
        let parts = tag.components(separatedBy: "_|-")
        let function = parts.count == 4 ? "\(parts[0]).\(parts[3])" : tag
        let id = ret["__id__"]?.stringValue ?? (parts.count == 4 ? parts[1] : "")
        let name = ret["name"]?.stringValue ?? ""
        let duration = ret["duration"]?.doubleValue ?? 0
        let what = name == id || name.isEmpty ? id : "\(id) (\(name))"
        counts.withLock {
            $0.done += 1
            $0.label = what
        }
        line("    \(word) \(function) \(what)  \(Self.milliseconds(duration))")
    }

    static func milliseconds(_ ms: Double) -> String {
        ms >= 1000 ? String(format: "%.1f s", ms / 1000) : String(format: "%.0f ms", ms)
    }

    private func clearBar() {
        guard terminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    private func drawBar() {
        guard terminal else { return }
        let (done, total, label) = counts.withLock { $0 }
        guard total > 0 else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("[\(bar)] \(done)/\(total) \(label.prefix(40))".utf8))
    }

    public func finish() {
        clearBar()
        counts.withLock { $0 = (0, 0, "") }
    }
}
