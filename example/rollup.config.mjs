import resolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';

export default {
  input: 'src/main.ts',
  output: { file: 'www/main.js', format: 'es' },
  plugins: [resolve(), typescript({ tsconfig: './tsconfig.json', noEmit: false, outDir: 'www' })],
};
