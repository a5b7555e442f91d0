#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aitbc_node::fuzzing::network_message(data));
