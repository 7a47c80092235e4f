#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_replay::fuzz_core_operation(data));
