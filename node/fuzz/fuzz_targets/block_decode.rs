#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aitbc_node::fuzzing::block_decode(data));
