from api.cli import console_script

console_script()
