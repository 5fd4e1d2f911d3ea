import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// pip.installed/removed with a real pip in a real virtualenv, installing
/// wheels the test makes (no index: nothing leaves the machine); comments
/// and changes are Salt 3008.4's for the same steps.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
struct PipStateTests {
    let tree = Tree()
    var venv: String { tree.root + "/venv" }
    var wheels: String { tree.root + "/wheels" }

    /// A minimal wheel, as a build backend would write it.
    func wheel(_ name: String, _ version: String) throws {
        let script = """
            import sys, zipfile, hashlib, base64
            name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
            files = {f"{name}/__init__.py": f"VERSION = '{version}'\\n",
                     f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
                     f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: brine-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
            h = lambda b: "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
            record = "".join(f"{p},{h(c.encode())},{len(c.encode())}\\n" for p, c in files.items()) + f"{name}-{version}.dist-info/RECORD,,\\n"
            with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
                for p, c in files.items(): z.writestr(p, c)
                z.writestr(f"{name}-{version}.dist-info/RECORD", record)
            """
        try tree.write(tree.root + "/mkwheel.py", script)
        #expect(try runShell("mkdir -p \(wheels) && /usr/bin/python3 \(tree.root)/mkwheel.py \(name) \(version) \(wheels)").code == 0)
    }

    func apply(_ text: String, _ extra: String...) throws -> [Value] {
        try tree.applyStates("p", text.replacingOccurrences(of: "VENV", with: venv).replacingOccurrences(of: "WHEELS", with: wheels), extra)
    }

    func installed() throws -> String {
        try runShell("\(venv)/bin/python -m pip list --format=freeze --disable-pip-version-check | grep -v '^pip=\\|^setuptools='").output
    }

    @Test func installUpgradeRemove() throws {
        defer { tree.remove() }
        let made = try runShell("/usr/bin/python3 -m venv \(venv)")
        #expect(made.code == 0, "python3 -m venv: \(made.output) (scripts/setup installs python3-venv)")
        try wheel("brine_testpkg", "1.0")
        try wheel("brine_testpkg", "2.0")
        try wheel("other_pkg", "0.5")
        let states = """
            one:
              pip.installed:
                - name: brine-testpkg==1.0
                - bin_env: VENV
                - no_index: True
                - find_links: WHEELS
            two:
              pip.installed:
                - pkgs: [other_pkg, 'brine_testpkg>=1.0,<2']
                - bin_env: VENV
                - no_index: True
                - find_links: WHEELS
            """
        let preview = try apply(states, "test=True")
        #expect(preview[0]["comment"] == "Python package brine-testpkg==1.0 is set to be installed" && preview[0]["result"] == .null)
        #expect(preview[1]["comment"] == "Python package(s) set to be installed:\nother_pkg\nbrine_testpkg>=1.0,<2")
        let first = try apply(states)
        #expect(first[0]["changes"] == ["brine-testpkg==1.0": "Installed"] && first[0]["comment"] == "All packages were successfully installed", "\(first)")
        #expect(first[1]["changes"] == ["other-pkg==0.5": "Installed"])
        #expect(first[1]["comment"] == "Python package brine_testpkg>=1.0,<2 was already installed\nAll packages were successfully installed")
        #expect(try installed() == "brine_testpkg==1.0\nother_pkg==0.5\n")
        let again = try apply(states)
        #expect(again[0]["comment"] == "Python package brine-testpkg==1.0 was already installed\nAll specified packages are already installed")
        #expect(again.allSatisfy { $0["changes"] == .emptyMap })

        let upgraded = try apply("""
            up:
              pip.installed:
                - name: brine-testpkg>=2
                - bin_env: VENV
                - no_index: True
                - find_links: WHEELS
            bad:
              pip.installed:
                - name: nothere==1.0
                - bin_env: VENV
                - no_index: True
                - find_links: WHEELS
            eq:
              pip.installed:
                - name: other_pkg=0.5
                - bin_env: VENV
            """)
        #expect(upgraded[0]["changes"] == ["brine-testpkg==2.0": "Installed"], "\(upgraded)")
        #expect(upgraded[1]["result"] == false)
        let failure = upgraded[1]["comment"]?.stringValue ?? ""
        #expect(failure.hasPrefix("Failed to install packages: nothere==1.0. Error: "), "\(failure)")
        #expect(upgraded[2]["comment"] == "Invalid version specification in package other_pkg=0.5. '=' is not supported, use '==' instead.")

        let removed = try apply("other-pkg:\n  pip.removed:\n    - bin_env: VENV\ngone:\n  pip.removed:\n    - name: nothere\n    - bin_env: VENV\n")
        #expect(removed[0]["changes"] == ["other-pkg": "Removed"] && removed[0]["comment"] == "Package was successfully removed.")
        #expect(removed[1]["comment"] == "Package is not installed.")
        #expect(try installed() == "brine_testpkg==2.0\n")
    }

    /// PEP 440 order and specifiers, on the cases packaging documents.
    @Test func versions() {
        #expect(PEP440.normalize("Foo__Bar.baz") == "foo-bar-baz")
        #expect(PEP440.requirement("Django[bcrypt] >= 1.6, <= 1.7 ; python_version > '3'").map { [$0.name] + $0.specifiers.map { $0.0 + $0.1 } } == ["Django", ">=1.6", "<=1.7"])
        #expect(PEP440.requirement("git+https://example.invalid/x.git#egg=x") == nil)
        #expect(PEP440.satisfies("1.0.0", [("==", "1.0")]))
        #expect(PEP440.satisfies("2.0", [(">=", "1.0"), ("<", "3")]) && !PEP440.satisfies("3.0", [(">=", "1.0"), ("<", "3")]))
        #expect(PEP440.satisfies("1.4.5", [("~=", "1.4.2")]) && !PEP440.satisfies("1.5", [("~=", "1.4.2")]))
        #expect(PEP440.satisfies("1.4.5", [("==", "1.4.*")]) && !PEP440.satisfies("1.5", [("==", "1.4.*")]))
        #expect(PEP440.satisfies("2.0b1", [(">=", "1.0")]) && !PEP440.satisfies("1.0b1", [("==", "1.0")]))
        // answers of Python's packaging 26 (SpecifierSet.contains), which Salt's oracle runs
        #expect(!PEP440.satisfies("1.0.post1", [(">", "1.0")]) && PEP440.satisfies("1.0.post1", [(">=", "1.0")]))
        #expect(!PEP440.satisfies("1.0rc1", [("<", "1.0"), (">=", "1.0a1")]) && PEP440.satisfies("0.9", [("<", "1.0")]))
        #expect(PEP440.satisfies("1!0.5", [(">", "9.0")]))
        #expect(PEP440.satisfies("1!2.5", [("~=", "1!2.3")]) && !PEP440.satisfies("3.0a1", [("~=", "2.2a1")]))
        #expect(!PEP440.satisfies("2.0", [("==", "1!2.*")]) && PEP440.satisfies("1.0preview1", [(">=", "1.0a1")]))
        #expect(PEP440.satisfies("1.0a1", [("!=", "1.0a2")]) && PEP440.satisfies("1.4.5rc1", [("~=", "1.4.2")]))
    }
}
