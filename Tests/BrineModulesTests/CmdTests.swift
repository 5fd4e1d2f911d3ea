import BrineCore
import BrineModules
import Foundation
import Testing

@Suite struct CmdTests {
    @Test func runMergesStderrAndStrips() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "cmd.run", "echo out; echo err >&2") == "out\nerr")
        #expect(ctx.outcome.retcode == 0)
    }

    @Test func failingCommandSetsRetcode() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "cmd.run", "echo out; exit 3") == "out")
        #expect(ctx.outcome.retcode == 3)
        let ignored = try makeContext()
        _ = try call(ignored, "cmd.run", "exit 3", "ignore_retcode=True")
        #expect(ignored.outcome.retcode == 0)
    }

    @Test func runAllSeparatesStreams() throws {
        let ctx = try makeContext()
        let result = try call(ctx, "cmd.run_all", "echo out; echo err >&2; exit 2")
        #expect(result["stdout"] == "out")
        #expect(result["stderr"] == "err")
        #expect(result["retcode"] == 2)
        #expect((result["pid"]?.intValue ?? 0) > 0)
        #expect(try call(ctx, "cmd.run_stdout", "echo a; echo b >&2") == "a")
        #expect(try call(ctx, "cmd.run_stderr", "echo a; echo b >&2") == "b")
        #expect(try call(ctx, "cmd.retcode", "exit 7") == 7)
    }

    @Test func cwdEnvStdin() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try makeContext()
        #expect(try call(ctx, "cmd.run", "pwd", "cwd=\(dir)") == .string(dir))
        #expect(try callWith(ctx, "cmd.run", ["echo $GREETING"], ["env": ["GREETING": "bonjour"]]) == "bonjour")
        #expect(try callWith(ctx, "cmd.run", ["echo $A$B"], ["env": [["A": "1"], ["B": "2"]]]) == "12")
        #expect(try callWith(ctx, "cmd.run", ["tr a-z A-Z"], ["stdin": "shout\n"]) == "SHOUT")
        #expect(try call(ctx, "cmd.run", "echo $LC_MESSAGES") == "C")
        #expect { try call(ctx, "cmd.run", "true", "cwd=/nonexistent/dir") } throws: { error in
            (error as? BrineError)?.message.contains("/nonexistent/dir") == true
        }
    }

    @Test func withoutShellArgumentsAreNotExpanded() throws {
        let ctx = try makeContext(direct: false)
        // Cross-module calls default to python_shell=False, as in Salt.
        #expect(try call(ctx, "cmd.run", "echo $HOME 'a b'") == "$HOME a b")
        #expect(try call(ctx, "cmd.run", "echo $((1+1))", "python_shell=True") == "2")
        #expect { try call(ctx, "cmd.run", "no-such-program-brine") } throws: { error in
            (error as? BrineError)?.message.contains("command not found") == true
        }
    }

    @Test func timeoutKillsTheWholeGroup() throws {
        let dir = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ctx = try makeContext()
        let marker = dir + "/survived"
        let start = Date()
        let out = try call(ctx, "cmd.run", "(sleep 2; touch \(marker)) & sleep 30", "timeout=0.5")
        #expect(Date().timeIntervalSince(start) < 25, "returned at the timeout, not when the `sleep 30` holding the output ended")
        #expect(out.stringValue?.contains("Timed out after 0.5 seconds") == true)
        #expect(ctx.outcome.retcode == 1)
        Thread.sleep(forTimeInterval: 2.5)
        #expect(!FileManager.default.fileExists(atPath: marker), "the background child was killed with its group")
    }

    @Test func scriptFromSaltURLAndLocalPath() throws {
        let root = makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/scripts", withIntermediateDirectories: true)
        try write("#!/bin/sh\necho \"args: $*\"\nexit 4\n", to: root + "/scripts/hello.sh")
        let ctx = try makeContext(fileRoot: root)
        let result = try call(ctx, "cmd.script", "salt://scripts/hello.sh", "args=one two")
        #expect(result["stdout"] == "args: one two")
        #expect(result["retcode"] == 4)
        let local = try call(ctx, "cmd.script", root + "/scripts/hello.sh")
        #expect(local["stdout"] == "args:")
        let missing = try call(ctx, "cmd.script", "salt://scripts/nope.sh")
        #expect(missing["cache_error"] == true)
        #expect { try call(ctx, "cmd.script", "salt://../etc/passwd") } throws: { error in
            (error as? BrineError)?.kind == .permission
        }
    }

    @Test(.enabled(if: isRoot)) func runasSwitchesUser() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "cmd.run", "id -un", "runas=nobody") == "nobody")
        #expect(try call(ctx, "cmd.which", "sh") != .null)
        #expect(try call(ctx, "cmd.has_exec", "definitely-not-here") == false)
    }
}
