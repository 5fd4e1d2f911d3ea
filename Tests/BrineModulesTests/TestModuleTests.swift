import BrineCore
import BrineModules
import Foundation
import Testing

@Suite struct TestModuleTests {
    @Test func pingEchoArg() throws {
        let ctx = try makeContext()
        #expect(try call(ctx, "test.ping") == true)
        #expect(try call(ctx, "test.echo", "hello") == "hello")
        #expect(try call(ctx, "test.arg", "1", "x", "k=True") == ["args": [1, "x"], "kwargs": ["k": true]])
        #expect(try call(ctx, "test.fib", "10") == [0, 1, 1, 2, 3, 5, 8])
        #expect(try call(ctx, "test.version") == .string(Brine.version))
        #expect(try call(ctx, "test.true") == true)
        #expect(try call(ctx, "test.false") == false)
    }

    @Test func sleepReallySleeps() throws {
        let ctx = try makeContext()
        let start = Date()
        #expect(try call(ctx, "test.sleep", "0.2") == true)
        #expect(Date().timeIntervalSince(start) >= 0.2)
    }

    @Test func argumentErrorsSaySalt() throws {
        let ctx = try makeContext()
        #expect { try call(ctx, "test.nosuch") } throws: { error in
            let e = error as? BrineError
            return e?.kind == .notAvailable && e?.message == "'test.nosuch' is not available."
        }
        #expect { try call(ctx, "test.echo") } throws: { error in
            (error as? BrineError)?.message.contains("missing required argument 'text'") == true
        }
        #expect { try call(ctx, "test.ping", "extra") } throws: { error in
            (error as? BrineError)?.message.contains("takes at most 0 positional arguments") == true
        }
        #expect { try call(ctx, "test.ping", "bogus=1") } throws: { error in
            (error as? BrineError)?.message == "The following keyword arguments are not valid: bogus=1"
        }
        #expect(throws: BrineError.self) { try call(ctx, "test.exception", "boom") }
    }

    @Test func sysListsAndDocuments() throws {
        let ctx = try makeContext()
        let functions = try call(ctx, "sys.list_functions", "test").listValue ?? []
        #expect(functions.contains("test.ping"))
        #expect(!functions.contains("cmd.run"))
        #expect(try call(ctx, "sys.list_functions", "*.ping") == ["test.ping"])
        let modules = try call(ctx, "sys.list_modules").listValue ?? []
        for module in ["cmd", "file", "grains", "pillar", "pkg", "service", "sys", "test", "config"] {
            #expect(modules.contains(.string(module)))
        }
        let doc = try call(ctx, "sys.doc", "test.echo")
        #expect(doc["test.echo"]?.stringValue?.contains("Usage: test.echo(text)") == true)
    }

    @Test func configGetLooksInOptsGrainsPillar() throws {
        let ctx = try makeContext(pillar: ["app": ["port": 8080]], options: ["custom_opt": "from-opts"])
        #expect(try call(ctx, "config.get", "custom_opt") == "from-opts")
        #expect(try call(ctx, "config.get", "os_family") == "Debian")
        #expect(try call(ctx, "config.get", "app:port") == 8080)
        #expect(try call(ctx, "config.get", "nope", "default=fallback") == "fallback")
    }
}
