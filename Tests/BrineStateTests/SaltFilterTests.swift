import BrineCore
import BrineModules
import BrineState
import Foundation
import Testing

/// Salt's template filters, tests and globals, each line checked against
/// what Salt 3008.4 rendered for it (recorded with bench/compat/lines.sh,
/// which renders every line with Salt and with Brine and compares them).
@Suite struct SaltFilterTests {
    let tree = Tree()

    func render(_ template: String, _ ctx: ExecutionContext) throws -> String {
        let value = try Modules.loader.call("slsutil.renderer",
                                            CallArguments(keyword: ["string": .string(template), "default_renderer": "jinja"]),
                                            context: ctx)
        return value.stringValue ?? "\(value)"
    }

    /// Every line whose Salt answer does not depend on the clock, chance or
    /// the machine: Brine must print exactly what Salt printed.
    @Test func sameAsSalt() throws {
        defer { tree.remove() }
        let ctx = try tree.context()
        for (template, salt) in Self.recorded {
            #expect(try render(template, ctx) == salt, "\(template)")
        }
    }

    /// Where Salt 3008 fails on its own filters, Brine answers: a number as
    /// a seed (Salt hashes only text), `uuid` of a number, `ifelse` (Salt's
    /// global cannot see `__context__`), and the Python 2 json_*_dict/list
    /// leftovers pass data through instead of making bytes.
    @Test func whereSaltFails() throws {
        defer { tree.remove() }
        let ctx = try tree.context(id: "web01", grains: ["os": "Debian"])
        #expect(try render("{{ [1, 2, 3, 4] | random_shuffle(seed=5) }}", ctx) == render("{{ [1, 2, 3, 4] | random_shuffle(seed='5') }}", ctx))
        #expect(try render("{{ 42 | uuid }}", ctx) == render("{{ '42' | uuid }}", ctx))
        #expect(try render("{{ ifelse('G@os:Debian', 'deb', 'web*', 'web', 'other') }}", ctx) == "deb")
        #expect(try render("{{ ifelse('G@os:RedHat', 'rh', 'web*', 'web', 'other') }}", ctx) == "web")
        #expect(try render("{{ ifelse(False, 'no', 'other') }} {{ ifelse(True, 'yes', 'other') }} {{ ifelse('x') }}", ctx) == "other yes x")
        #expect(try render("{{ salt['match.compound']('G@os:Debian and web*') }} {{ salt['match.glob']('db*') }}", ctx) == "True False")
        #expect(try render("{{ {'a': 'b'} | json_encode_dict }} {{ ['a'] | json_decode_list }}", ctx) == "{'a': 'b'} ['a']")
        // Salt walks a set of the keys (an order Python varies per process);
        // Brine lists the old keys, then the new ones.
        #expect(try render("{{ {'a': 1, 'b': 2} | compare_dicts({'a': 1, 'b': 3, 'c': 4}) }}", ctx)
            == "{'b': {'old': 2, 'new': 3}, 'c': {'old': '', 'new': 4}}")
    }

    /// Filters that draw random values or read the machine: their shape.
    @Test func randomAndMachine() throws {
        defer { tree.remove() }
        let ctx = try tree.context()
        #expect(try render("{{ 100 | random_hash | length }} {{ 100 | random_hash('sha256') | length }} {{ 10 | random_str | length }}", ctx) == "32 64 10")
        #expect(try render("{{ [1, 2, 3] | random_shuffle | sort }} {{ [1, 2, 3] | random_sample(2) | length }}", ctx) == "[1, 2, 3] 2")
        let mac = try render("{{ 'AC:DE:48' | gen_mac }}", ctx)
        #expect(mac.hasPrefix("AC:DE:48:") && mac.count == 17)
        #expect(try render("{{ 'no-such-program-here' | which }} {{ 'sh' | which is string }}", ctx) == "None True")
        try tree.write(tree.root + "/empty", "")
        try tree.write(tree.root + "/text", "hello\n")
        let empty = tree.root + "/empty", text = tree.root + "/text"
        #expect(try render("{{ '\(empty)' | is_empty }} {{ '\(text)' | is_empty }} {{ '\(text)' | is_text_file }} {{ '\(text)' | is_bin_file }}", ctx)
            == "True False True False")
        #expect(try render("{{ '\(text)' | file_hashsum }}", ctx) == (try Hashing.hexDigest(Array("hello\n".utf8))))
        #expect(try render("{{ 'localhost' | dns_check(80) in ['127.0.0.1', '[::1]'] }}", ctx) == "True")
    }

    /// Inputs that would build enormous results or recurse without end
    /// are refused (Python would run out of memory or answer `[...]`).
    @Test func hostileInputsRefused() throws {
        defer { tree.remove() }
        let ctx = try tree.context()
        #expect(throws: BrineError.self) { try render("{{ {'a': {'b': 1}} | tojson(4611686018427387904) }}", ctx) }
        #expect(throws: BrineError.self) { try render("{{ [1] | combinations_with_replacement(200000) | list }}", ctx) }
        #expect(throws: BrineError.self) { try render("{{ [1, 2] | product(repeat=1000000000000) | list }}", ctx) }
        #expect(throws: BrineError.self) { try render("{{ range(30) | list | permutations | list | length }}", ctx) }
        #expect(try render("{% set l = [] %}{% do l.append(l) %}{{ l | compare_lists([1]) }}", ctx) == "{'new': [1], 'old': [[[...]]]}")  // Salt: maximum recursion depth exceeded
        #expect(try render("{{ 100000000000000000 | strftime }}", ctx).count < 64)
        // A list holding itself prints as Python prints it (this crashed the process before).
        #expect(try render("{% set l = [] %}{% do l.append(l) %}{{ l }} {% set d = {} %}{% do d.update({'me': d}) %}{{ d }}", ctx)
            == "[[...]] {'me': {...}}")
    }

    /// `json_query` and `http_query` refuse with a clear error; `raise`
    /// stops the render with the template's own words.
    @Test func clearRefusals() throws {
        defer { tree.remove() }
        let ctx = try tree.context()
        #expect(throws: BrineError.self) { try render("{{ {'a': 1} | json_query('a') }}", ctx) }
        #expect(throws: BrineError.self) { try render("{{ 'http://127.0.0.1/' | http_query }}", ctx) }
        do {
            _ = try render("{{ raise('custom failure') }}", ctx)
            Issue.record("raise did not stop the render")
        } catch let error as BrineError {
            #expect(error.message.contains("custom failure"))
        }
    }

    static let recorded: [(String, String)] = [
        (#"sfc={{ show_full_context()['saltenv'] }} {{ show_full_context()['grains']['os'] }} {{ show_full_context()['salt'] is string }}"#,
         #"sfc=base Debian True"#),
        (#"regex_escape={{ 'a.b*c' | regex_escape }}"#,
         #"regex_escape=a\.b\*c"#),
        (#"to_bytes={{ 'abc' | to_bytes }}"#,
         #"to_bytes=b'abc'"#),
        (#"str_to_num={{ '12' | str_to_num }} {{ '1.5' | str_to_num }} {{ 'x' | str_to_num }}"#,
         #"str_to_num=12 1.5 x"#),
        (#"exactly_one_true={{ [0, 1, 0] | exactly_one_true }} {{ [1,1] | exactly_one_true }}"#,
         #"exactly_one_true=True False"#),
        (#"exactly_n_true={{ [1,1,0] | exactly_n_true(2) }}"#,
         #"exactly_n_true=True"#),
        (#"skip={{ 'x' | skip }}|"#,
         #"skip=|"#),
        (#"is_iter={{ [1] | is_iter }} {{ 'ab' | is_iter }} {{ 3 | is_iter }}"#,
         #"is_iter=True False False"#),
        (#"is_hex={{ '0xAF' | is_hex }} {{ 'af' | is_hex }} {{ 'zz' | is_hex }}"#,
         #"is_hex=True True False"#),
        (#"is_ip={{ '10.0.0.1' | is_ip }} {{ '::1' | is_ip }} {{ 'x' | is_ip }}"#,
         #"is_ip=True True False"#),
        (#"is_ipv4={{ '10.0.0.1' | is_ipv4 }} {{ '::1' | is_ipv4 }}"#,
         #"is_ipv4=True False"#),
        (#"is_ipv6={{ '10.0.0.1' | is_ipv6 }} {{ '::1' | is_ipv6 }}"#,
         #"is_ipv6=False True"#),
        (#"ipaddr={{ ['10.0.0.1', 'x', '::1', '192.168.0.0/24'] | ipaddr }} {{ '10.0.0.1' | ipaddr }} {{ 'x' | ipaddr }}"#,
         #"ipaddr=['10.0.0.1', '192.168.0.0/24', '::1'] 10.0.0.1 None"#),
        (#"ipaddr_opt={{ ['10.0.0.1', '::1', '192.168.1.0/24'] | ipaddr('ipv4') }}"#,
         #"ipaddr_opt=['10.0.0.1', '192.168.1.0/24', '::1']"#),
        (#"ipv4={{ ['10.0.0.1', '::1', '192.168.0.0/24'] | ipv4 }} {{ '::1' | ipv4 }}"#,
         #"ipv4=['10.0.0.1', '192.168.0.0/24'] None"#),
        (#"ipv6={{ ['10.0.0.1', '::1', 'fe80::/64'] | ipv6 }}"#,
         #"ipv6=['::1', 'fe80::/64']"#),
        (#"ipwrap={{ '::1' | ipwrap }} {{ '10.0.0.1' | ipwrap }} {{ ['::1', 'a'] | ipwrap }}"#,
         #"ipwrap=[::1] 10.0.0.1 ['[::1]', 'a']"#),
        (#"ip_host={{ '192.168.1.5/24' | ip_host }} {{ ['10.1.2.3/8', 'fe80::1/64'] | ip_host }}"#,
         #"ip_host=192.168.1.5/24 ['10.1.2.3/8', 'fe80::1/64']"#),
        (#"network_hosts={{ '192.168.1.0/30' | network_hosts }}"#,
         #"network_hosts=['192.168.1.1', '192.168.1.2']"#),
        (#"network_size={{ '192.168.1.0/24' | network_size }} {{ 'fe80::/120' | network_size }}"#,
         #"network_size=256 256"#),
        (#"filter_by_networks={{ ['10.0.0.1', '192.168.1.2', '172.16.0.1'] | filter_by_networks(['10.0.0.0/8', '192.168.0.0/16']) }}"#,
         #"filter_by_networks=['10.0.0.1', '192.168.1.2']"#),
        (#"mac_str_to_bytes={{ '00:11:22:33:44:55' | mac_str_to_bytes }}"#,
         #"mac_str_to_bytes=b'\x00\x11"3DU'"#),
        (#"contains_whitespace={{ 'a b' | contains_whitespace }} {{ 'ab' | contains_whitespace }}"#,
         #"contains_whitespace=True False"#),
        (#"substring_in_list={{ 'ab' | substring_in_list(['xaby', 'z']) }} {{ 'q' | substring_in_list(['xaby']) }}"#,
         #"substring_in_list=True False"#),
        (#"check_whitelist_blacklist={{ 'web1' | check_whitelist_blacklist(whitelist=['web*']) }} {{ 'db1' | check_whitelist_blacklist(blacklist=['db*']) }}"#,
         #"check_whitelist_blacklist=True False"#),
        (#"sha1={{ 'abc' | sha1 }}"#,
         #"sha1=a9993e364706816aba3e25717850c26c9cd0d89d"#),
        (#"md5={{ 'abc' | md5 }}"#,
         #"md5=900150983cd24fb0d6963f7d28e17f72"#),
        (#"hmac={{ 'abc' | hmac('secret', 'x') }}"#,
         #"hmac=False"#),
        (#"hmac_compute={{ 'abc' | hmac_compute('secret') }}"#,
         #"hmac_compute=9946dad4e00e913fc8be8e5d3f7e110a4a9e832f83fb09c345285d78638d8a0e"#),
        (#"uuid={{ 'abc' | uuid }}"#,
         #"uuid=3c2ec1f9-32eb-522f-9269-82ee3f929675"#),
        (#"tojson={{ {'b': 1, 'a': [1, 'x']} | tojson }} {{ 'a<b' | tojson }}"#,
         #"tojson={"b": 1, "a": [1, "x"]} "a\u003cb""#),
        (#"method_call={{ 'a,b' | method_call('split', ',') }}"#,
         #"method_call=['a', 'b']"#),
        (#"avg={{ [1, 2, 4] | avg }}"#,
         #"avg=2.3333333333333335"#),
        (#"min={{ [3, 1, 2] | min }}"#,
         #"min=1"#),
        (#"max={{ [3, 1, 2] | max }}"#,
         #"max=3"#),
        (#"compare_lists={{ [1, 2, 3] | compare_lists([2, 3, 4]) }}"#,
         #"compare_lists={'new': [4], 'old': [1]}"#),
        (#"flatten={{ [1, [2, [3, []]], 4] | flatten }} {{ [1, [2, [3, []]]] | flatten(levels=1) }} {{ [1, [2, [], 3]] | flatten(preserve_nulls=True) }}"#,
         #"flatten=[1, 2, 3, 4] [1, 2, [3, []]] [1, 2, 3]"#),
        (#"sorted_ignorecase={{ ['b', 'A', 'c', 'a'] | sorted_ignorecase }}"#,
         #"sorted_ignorecase=['A', 'a', 'b', 'c']"#),
        (#"human_to_bytes={{ '1K' | human_to_bytes }} {{ '2MB' | human_to_bytes }} {{ '1.5G' | human_to_bytes }} {{ '10' | human_to_bytes }} {{ '1KiB' | human_to_bytes }}"#,
         #"human_to_bytes=1024 2097152 1610612736 10 1024"#),
        (#"to_entries={{ {'a': 1, 'b': 2} | to_entries }}"#,
         #"to_entries=[{'key': 'a', 'value': 1}, {'key': 'b', 'value': 2}]"#),
        (#"from_entries={{ [{'key': 'a', 'value': 1}, {'name': 'b', 'value': 2}] | from_entries }}"#,
         #"from_entries={'a': 1, 'b': 2}"#),
        (#"to_camelcase={{ 'foo_bar_baz' | to_camelcase }} {{ 'foo_bar' | to_camelcase(uppercamel=True) }}"#,
         #"to_camelcase=fooBarBaz FooBar"#),
        (#"to_snake_case={{ 'fooBarBaz' | to_snake_case }} {{ 'FooBar' | to_snake_case }}"#,
         #"to_snake_case=foo_bar_baz foo_bar"#),
        (#"set_dict_key_value={{ {} | set_dict_key_value('a:b:c', 1) }}"#,
         #"set_dict_key_value={'a': {'b': {'c': 1}}}"#),
        (#"append_dict_key_value={{ {'a': {'b': [1]}} | append_dict_key_value('a:b', 2) }}"#,
         #"append_dict_key_value={'a': {'b': [1, 2]}}"#),
        (#"extend_dict_key_value={{ {'a': {'b': [1]}} | extend_dict_key_value('a:b', [2, 3]) }}"#,
         #"extend_dict_key_value={'a': {'b': [1, 2, 3]}}"#),
        (#"update_dict_key_value={{ {'a': {'b': {'x': 1}}} | update_dict_key_value('a:b', {'y': 2}) }}"#,
         #"update_dict_key_value={'a': {'b': {'x': 1, 'y': 2}}}"#),
        (#"indent={{ "a\nb\nc" | indent(2) }}|{{ "a\nb" | indent(2, true) }}|{{ "a\n\nb" | indent(2, blank=true) }}"#,
         #"indent=a\#n  b\#n  c|  a\#n  b|a\#n  \#n  b"#),
        (#"xml={{ {'a': 1, 'b': 'x'} | xml }}"#,
         #"xml=<?xml version="1.0" ?>\#n<b>x</b>\#n"#),
        (#"python={{ {'a': 1, 'b': [1, 'x', None, True]} | python }}"#,
         #"python={'a': 1, 'b': [1, 'x', None, True]}"#),
        (#"dict_to_sls_yaml_params={{ {'a': 1, 'b': 'x'} | dict_to_sls_yaml_params }}"#,
         #"dict_to_sls_yaml_params=- a: 1\#n- b: x"#),
        (#"combinations={{ [1, 2, 3] | combinations(2) | list }}"#,
         #"combinations=[(1, 2), (1, 3), (2, 3)]"#),
        (#"combinations_with_replacement={{ [1, 2] | combinations_with_replacement(2) | list }}"#,
         #"combinations_with_replacement=[(1, 1), (1, 2), (2, 2)]"#),
        (#"compress={{ [1, 2, 3] | compress([1, 0, 1]) | list }}"#,
         #"compress=[1, 3]"#),
        (#"permutations={{ [1, 2, 3] | permutations(2) | list }}"#,
         #"permutations=[(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)]"#),
        (#"product={{ [1, 2] | product(['a', 'b']) | list }}"#,
         #"product=[(1, 'a'), (1, 'b'), (2, 'a'), (2, 'b')]"#),
        (#"zip={{ [1, 2] | zip(['a', 'b']) | list }}"#,
         #"zip=[(1, 'a'), (2, 'b')]"#),
        (#"zip_longest={{ [1, 2, 3] | zip_longest(['a'], fillvalue='-') | list }}"#,
         #"zip_longest=[(1, 'a'), (2, '-'), (3, '-')]"#),
        (#"to_bool={{ 'yes' | to_bool }} {{ 'no' | to_bool }} {{ 2 | to_bool }} {{ [] | to_bool }} {{ [1] | to_bool }}"#,
         #"to_bool=True False True False True"#),
        (#"to_num={{ '4' | to_num }} {{ '4.5' | to_num }} {{ 'x' | to_num }}"#,
         #"to_num=4 4.5 x"#),
        (#"is_list={{ [1] | is_list }} {{ 'x' | is_list }}"#,
         #"is_list=True False"#),
        (#"sequence={{ 'x' | sequence }} {{ [1] | sequence }}"#,
         #"sequence=['x'] [1]"#),
        (#"unique={{ [1, 2, 1, 3] | unique }}"#,
         #"unique=[1, 2, 3]"#),
        (#"regex_search={{ 'abcd' | regex_search('b(c)') }} {{ 'abc' | regex_search('z') }}"#,
         #"regex_search=('c',) None"#),
        (#"regex_match={{ 'abcd' | regex_match('b(c)') }} {{ 'abcd' | regex_match('a(b)') }}"#,
         #"regex_match=None ('b',)"#),
        (#"regex_replace={{ 'abc' | regex_replace('b', 'X') }} {{ 'aBc' | regex_replace('b', 'X', ignorecase=True) }}"#,
         #"regex_replace=aXc aXc"#),
        (#"base64={{ 'abc' | base64_encode }} {{ 'YWJj' | base64_decode }}"#,
         #"base64=YWJj abc"#),
        (#"quote={{ "a b'c" | quote }}"#,
         #"quote='a b'"'"'c'"#),
        (#"path_join={{ '/a' | path_join('b', 'c') }}"#,
         #"path_join=/a/b/c"#),
        (#"union={{ [1, 2] | union([2, 3]) }} intersect={{ [1, 2] | intersect([2, 3]) }} difference={{ [1, 2] | difference([2, 3]) }} symdiff={{ [1, 2] | symmetric_difference([2, 3]) }}"#,
         #"union=[1, 2, 3] intersect=[2] difference=[1] symdiff=[1, 3]"#),
        (#"traverse={{ {'a': {'b': 1}} | traverse('a:b') }} {{ {'a': [{'b': 2}]} | traverse('a:0:b') }} {{ {} | traverse('x', 'dflt') }}"#,
         #"traverse=1 2 dflt"#),
        (#"get_uid={{ 'root' | get_uid }} {{ 'nobody-xyz' | get_uid }}"#,
         #"get_uid=0 None"#),
        (#"match={{ 'abc' is match('a.c') }} {{ 'abc' is match('b') }} {{ 'ABC' is match('a', ignorecase=True) }}"#,
         #"match=True False True"#),
        (#"equalto={{ 1 is equalto(1) }} {{ [1, 2, 3] | select('equalto', 2) | list }}"#,
         #"equalto=True [2]"#),
        (#"{{ 'a: b' | yaml_encode }} {{ 1 | yaml_encode }} {{ True | yaml_encode }} {{ None | yaml_encode }} {{ 1.5 | yaml_encode }} {{ "it's" | yaml_encode }} {{ "é\n" | yaml_encode }}"#,
         #""a: b" 1 true null 1.5 "it's" "\xE9\n""#),
        (#"{{ "é\ttab" | yaml_dquote }} {{ "x" | yaml_squote }}"#,
         #""\xE9\ttab" 'x'"#),
        (#"{{ {'a': [1, 2], 'b': {'c': None}} | tojson(indent=2) }}"#,
         #"{\#n  "a": [\#n    1,\#n    2\#n  ],\#n  "b": {\#n    "c": null\#n  }\#n}"#),
        (#"{{ "é" | tojson }} {{ [1.0, 2.5, True] | tojson }} {{ {'z': 1, 'a': 2} | tojson(sort_keys=True) }}"#,
         #""\u00e9" [1.0, 2.5, true] {"a": 2, "z": 1}"#),
        (#"{{ {'b': {'y': 1, 'x': [1, 2]}, 'a': 'q'} | python }}"#,
         #"{'a': 'q', 'b': {'x': [1, 2], 'y': 1}}"#),
        (#"{{ {'root': {'id': 1, 'child': {'name': 'x'}, 'items': [{'a': 1}, {'a': 2}]}} | xml }}"#,
         #"<?xml version="1.0" ?>\#n<root id="1">\#n <child name="x"/>\#n <items a="1"/>\#n <items a="2"/>\#n</root>\#n"#),
        (#"{{ {'root': 'text'} | xml }}"#,
         #"<?xml version="1.0" ?>\#n<root>text</root>\#n"#),
        (#"{{ ['127.0.0.1', '10.1.1.1', '8.8.8.8', '169.254.1.1', '224.0.0.1', '::1', 'fe80::1', '2001:db8::1', 'ff02::1', '0.0.0.0', '::'] | ipaddr('private') }}"#,
         #"['127.0.0.1', '10.1.1.1', '169.254.1.1', '0.0.0.0', '::1', 'fe80::1', '2001:db8::1', '::']"#),
        (#"{{ ['127.0.0.1', '10.1.1.1', '8.8.8.8', '::1', '2a00:1450::1', '100.64.0.1'] | ipaddr('public') }}"#,
         #"['8.8.8.8', '100.64.0.1', '2a00:1450::1']"#),
        (#"{{ ['127.0.0.1', '::1', '::1/64', '::1/128', '127.0.0.1/8'] | ipaddr('loopback') }}"#,
         #"['127.0.0.1', '127.0.0.1/8', '::1', '::1/128']"#),
        (#"{{ ['169.254.3.3', 'fe80::1', 'fec0::1'] | ipaddr('link-local') }} {{ ['fec0::1', 'fe80::1'] | ipv6('site-local') }} {{ ['240.0.0.1', '1.1.1.1', '::'] | ipaddr('reserved') }} {{ ['0.0.0.0', '::', '::/0'] | ipaddr('unspecified') }}"#,
         #"['169.254.3.3', 'fe80::1'] ['fec0::1'] ['240.0.0.1', '::'] ['0.0.0.0', '::']"#),
        (#"{{ '2001:0DB8:0000:0000:0000:0000:0000:0001' | ipv6 }} {{ '1:0:0:2:0:0:0:3' | ipv6 }} {{ '::ffff:1.2.3.4' | ipv6 }} {{ '1::' | ipv6 }} {{ '1:2:3:4:5:6:7::' | ipv6 }} {{ '01.2.3.4' | ipv4 }} {{ '1.2.3.4/255.255.0.0' | ipv4 }} {{ '1.2.3.4/0.0.255.255' | ipv4 }}"#,
         #"2001:db8::1 1:0:0:2::3 ::ffff:102:304 1:: 1:2:3:4:5:6:7:0 None 1.2.3.4/16 1.2.3.4/16"#),
        (#"{{ '10.1.2.3/8' | network_size }} {{ ['10.0.0.0/31', '10.0.0.5/32'] | network_hosts }} {{ 'fe80::/126' | network_hosts }} {{ '::1' | network_size }} {{ 'x' | network_size }}"#,
         #"16777216 [['10.0.0.0', '10.0.0.1'], ['10.0.0.5']] ['fe80::1', 'fe80::2', 'fe80::3'] 1 None"#),
        (#"{{ ['1.2.3.4', 'x'] | ip_host }} {{ '1.2.3.4' | ip_host }} {{ 'fe80::1/64' | ip_host(version=4) }} {{ ['fe80::1/64', '1.1.1.1/24'] | ip_host(version=6) }}"#,
         #"['1.2.3.4/32'] 1.2.3.4/32 None ['fe80::1/64']"#),
        (#"{{ {'eth0': ['10.0.0.1', '192.168.0.1'], 'lo': ['127.0.0.1']} | filter_by_networks(['10.0.0.0/8', '127.0.0.0/8']) }}"#,
         #"{'eth0': ['10.0.0.1'], 'lo': ['127.0.0.1']}"#),
        (#"{{ ['::1', '10.0.0.1', 'fe80::1'] | ipwrap | join(',') }} {{ 'fe80::0001' | ipwrap }}"#,
         #"[::1],10.0.0.1,[fe80::1] [fe80::1]"#),
        (#"{{ '1 kb' | human_to_bytes }} {{ '1kb' | human_to_bytes(handle_metric=True) }} {{ '5' | human_to_bytes('K') }} {{ '3x' | human_to_bytes }} {{ '1.5 MiB' | human_to_bytes }} {{ '' | human_to_bytes }} {{ 'K' | human_to_bytes }}"#,
         #"1024 1000 5120 0 1572864 0 0"#),
        (#"{{ 'HTTPServer' | to_snake_case }} {{ 'getHTTPResponseCode' | to_snake_case }} {{ 'already_snake' | to_snake_case }} {{ 'x' | to_snake_case }}"#,
         #"http_server get_http_response_code already_snake x"#),
        (#"{{ 'a__b' | to_camelcase }} {{ 'HELLO_world' | to_camelcase }} {{ 'one' | to_camelcase(True) }}"#,
         #"aB HELLOWorld One"#),
        (#"{{ ['b', 'A', 'a'] | min }} {{ ['b', 'A', 'a'] | max }} {{ [1, 2.5, -1] | max }} {{ 'hello' | max }}"#,
         #"A b 2.5 o"#),
        (#"{{ [1, 2] | avg }} {{ 5 | avg }} {{ [1.5, 2] | avg }}"#,
         #"1.5 5.0 1.75"#),
        (#"{{ [1, 'a', 1, 'b', 'a'] | unique }}"#,
         #"[1, 'a', 'b']"#),
        (#"{{ ' 12 ' | to_num }} {{ '1_000' | to_num }} {{ '1e3' | to_num }} {{ 2.7 | to_num }} {{ '0x10' | to_num }} {{ 'inf' | to_num }}"#,
         #"12 1000 1000.0 2 0x10 inf"#),
        (#"{{ '0x' | is_hex }} {{ ' ff ' | is_hex }} {{ '-0xA_B' | is_hex }} {{ 10 | is_hex }} {{ '' | is_hex }}"#,
         #"False True True False False"#),
        (#"{{ 'web1' | check_whitelist_blacklist(whitelist='web*', blacklist=['web1']) }} {{ 'a.b' | check_whitelist_blacklist(whitelist=['a\.b']) }} {{ 'x' | check_whitelist_blacklist }}"#,
         #"False True True"#),
        (#"{{ [[1, [2]], 'None', None, 'null', [3]] | flatten }} {{ [{'a': 1}, [2]] | flatten }}"#,
         #"[1, 2, 3] ['a', 2]"#),
        (#"{{ [1, 2] | compare_lists([1, 2]) }} {{ {'a': 1} | compare_dicts({'a': 1}) }}"#,
         #"{} {}"#),
        (#"{{ ['x', 'y'] | to_entries }} {{ [{'KEY': 'k', 'Value': 'v'}, {'name': '', 'value': 1}] | from_entries }}"#,
         #"[{'key': 0, 'value': 'x'}, {'key': 1, 'value': 'y'}] {'k': 'v'}"#),
        (#"{{ {'a': 5} | set_dict_key_value('a:b', 1) }} {{ {} | append_dict_key_value('x', 1) }} {{ {} | update_dict_key_value('a/b', {'k': 1}, delimiter='/') }}"#,
         #"{'a': {'b': 1}} {'x': [1]} {'a': {'b': {'k': 1}}}"#),
        (#"{{ [1, 2, 3] | permutations | list | length }} {{ 'ab' | combinations(2) | list }} {{ [1, 2] | product(repeat=2) | list }} {{ [1, 2] | zip('ab', [True]) | list }}"#,
         #"6 [('a', 'b')] [(1, 1), (1, 2), (2, 1), (2, 2)] [(1, 'a', True)]"#),
        (#"{{ 'é' | sha1 }} {{ 'x' | sha512 | length }} {{ 'x' | md5 }}"#,
         #"bf15be717ac1b080b4f1c456692825891ff5073d 128 9dd4e461268c8034f5c8564e155c67a6"#),
        (#"{{ 'abc' | hmac('secret', 'mZdr5jVDO1vB0rMAjvLcNjsNFnrG2ZdOKDRv09OzLQ4=') }} {{ 'hi' | hmac_compute('k') }}"#,
         #"False 233f8e9a13f278f19758a015d82f51e6e27966f1efc29d2cffb5d1a45ae9dc4c"#),
        (#"{{ 'line1\nline2' is match('^line2', multiline=True) }} {{ 'abc' is match('abc$') }} {{ ['ab', 'cd', 'ae'] | select('match', 'a') | list }}"#,
         #"False True ['ab', 'ae']"#),
        (#"{{ 1.5 | to_bool }} {{ 'TRUE' | to_bool }} {{ {} | to_bool }} {{ {'a': 1} | to_bool }} {{ 0 | to_bool }} {{ -1 | to_bool }}"#,
         #"False True False True False False"#),
        (#"{{ 'a1b22' | regex_replace('\d+', '#') }} {{ 'ab' | regex_search('(a)(x)?') }} {{ 'ab' | regex_match('a') }}"#,
         #"a#b# ('a', None) ('a',)"#),
        (#"{{ 'a_b-c d/e:f' | regex_escape }}"#,
         #"a_b\-c\ d/e:f"#),
        (#"{{ 'Hello' | method_call('upper') }} {{ 'abc' | method_call('nosuch') }} {{ {'a': 1} | method_call('get', 'a') }}"#,
         #"HELLO None 1"#),
        (#"{{ {'a': 1} | sequence }} {{ ('a', 'b') | sequence }} {{ None | sequence }}"#,
         #"{'a': 1} ('a', 'b') [None]"#),
        (#"{{ '' | quote }} {{ 'safe-word' | quote }}"#,
         #"'' safe-word"#),
        (#"{{ {'a': 1} | is_iter }} {{ ('a',) | is_iter }} {{ None | is_iter }} {{ ['a'] | is_list }} {{ ('a',) | is_list }}"#,
         #"True True False True False"#),
        (#"{{ [] | exactly_one_true }} {{ [1, 1, 1] | exactly_n_true(3) }} {{ [0, 0] | exactly_n_true(0) }}"#,
         #"False True True"#),
        (#"{{ '001122334455' | mac_str_to_bytes }} {{ 'aa-bb-cc-dd-ee-ff' | mac_str_to_bytes }}"#,
         #"b'\x00\x11"3DU' b'\xaa\xbb\xcc\xdd\xee\xff'"#),
        (#"{{ "it's" | to_bytes }} {{ 'é' | to_bytes }}"#,
         #"b"it's" b'\xc3\xa9'"#),
        (#"{{ {'name': 'x', 'list': [1, 2], 'd': {'k': 'v'}} | dict_to_sls_yaml_params }}"#,
         #"- name: x\#n- list:\#n  - 1\#n  - 2\#n- d:\#n    k: v"#),
        (#"{{ {'name': 'x'} | dict_to_sls_yaml_params(flow_style=True) }}"#,
         #"[{name: x}]"#),
        (#"{{ '1.2.3.4' | is_ip }} {{ '1.2.3.4/24' | is_ip }} {{ 'fe80::1%eth0' | is_ipv6 }} {{ '1.2.3.04' | is_ipv4 }} {{ '::ffff:1.2.3.4' | is_ipv6 }} {{ '1:2:3:4:5:6:7:8:9' | is_ipv6 }} {{ ':1::' | is_ipv6 }}"#,
         #"True True True False True False False"#),
        (#"{{ [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] | random_shuffle(seed='web01') }}"#,
         #"[10, 2, 8, 9, 1, 4, 5, 3, 6, 7]"#),
        (#"{{ range(100) | list | random_sample(30, seed='minion-x') }}"#,
         #"[36, 0, 58, 39, 43, 68, 54, 64, 77, 21, 5, 38, 74, 65, 18, 60, 45, 49, 34, 88, 50, 52, 11, 72, 47, 75, 70, 94, 91, 99]"#),
    ]
}
