#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aitbc_node::fuzzing::extrinsic_decode(data));
